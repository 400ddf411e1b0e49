// The 19 corruption names, as the references spell them (imagecorruptions' function names, the
// ImageNet-C folder names), their order, subsets and the mCE set (ood_suite.md 1.0).
#ifndef ROBUSTNESS_CORRUPTIONS_CORRUPTION_NAMES_H_
#define ROBUSTNESS_CORRUPTIONS_CORRUPTION_NAMES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "robustness/proto/corruption.pb.h"

namespace robustness {

// "gaussian_noise" ... "saturate". CHECKs `corruption` is one of the 19.
std::string CorruptionName(proto::Corruption corruption);

// The inverse of CorruptionName; an unknown name is InvalidArgument listing the valid ones.
absl::StatusOr<proto::Corruption> ParseCorruptionName(absl::string_view name);

// All 19 in the references' order.
const std::vector<proto::Corruption>& AllCorruptions();
// The 15 common corruptions (noise, blur, weather, digital) mCE averages over.
const std::vector<proto::Corruption>& CommonCorruptions();
// Whether `corruption` is one of the 15.
bool IsCommonCorruption(proto::Corruption corruption);
// "noise", "blur", "weather", "digital" or "extra".
std::string CorruptionCategory(proto::Corruption corruption);

}  // namespace robustness

#endif  // ROBUSTNESS_CORRUPTIONS_CORRUPTION_NAMES_H_
