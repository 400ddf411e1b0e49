// SHA-256 (FIPS 180-4) of a byte string, as lowercase hex. Used for config fingerprints in
// provenance records, so two result folders can be checked for "same config" by eye or by diff.
#ifndef ROBUSTNESS_BASE_SHA256_H_
#define ROBUSTNESS_BASE_SHA256_H_

#include <string>

#include "absl/strings/string_view.h"

namespace robustness {

std::string Sha256Hex(absl::string_view data);

}  // namespace robustness

#endif  // ROBUSTNESS_BASE_SHA256_H_
