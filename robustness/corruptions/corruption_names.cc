#include "robustness/corruptions/corruption_names.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "glog/logging.h"

namespace robustness {
namespace {

constexpr const char* kNames[] = {
    "gaussian_noise", "shot_noise",       "impulse_noise",  "defocus_blur",  "glass_blur",
    "motion_blur",    "zoom_blur",        "snow",           "frost",         "fog",
    "brightness",     "contrast",         "elastic_transform", "pixelate",   "jpeg_compression",
    "speckle_noise",  "gaussian_blur",    "spatter",        "saturate"};

}  // namespace

std::string CorruptionName(proto::Corruption corruption) {
  const int index = static_cast<int>(corruption) - 1;
  CHECK(index >= 0 && index < 19) << "not a corruption: " << static_cast<int>(corruption);
  return kNames[index];
}

absl::StatusOr<proto::Corruption> ParseCorruptionName(absl::string_view name) {
  for (int i = 0; i < 19; ++i) {
    if (name == kNames[i]) return static_cast<proto::Corruption>(i + 1);
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown corruption '", name,
                                                 "'; the 19 are: ", absl::StrJoin(kNames, ", ")));
}

const std::vector<proto::Corruption>& AllCorruptions() {
  static const auto* all = [] {
    auto* v = new std::vector<proto::Corruption>;
    for (int i = 1; i <= 19; ++i) v->push_back(static_cast<proto::Corruption>(i));
    return v;
  }();
  return *all;
}

const std::vector<proto::Corruption>& CommonCorruptions() {
  static const auto* common = new std::vector<proto::Corruption>(AllCorruptions().begin(),
                                                                 AllCorruptions().begin() + 15);
  return *common;
}

bool IsCommonCorruption(proto::Corruption corruption) {
  return corruption >= proto::GAUSSIAN_NOISE && corruption <= proto::JPEG_COMPRESSION;
}

std::string CorruptionCategory(proto::Corruption corruption) {
  const int i = static_cast<int>(corruption);
  CHECK(i >= 1 && i <= 19) << "not a corruption: " << i;
  if (i <= 3) return "noise";
  if (i <= 7) return "blur";
  if (i <= 11) return "weather";
  if (i <= 15) return "digital";
  return "extra";
}

}  // namespace robustness
