#include "robustness/attacks/radius.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "glog/logging.h"

namespace robustness {

double RadiusToPixels(const proto::Radius& radius) {
  switch (radius.value_case()) {
    case proto::Radius::kPixels:
      return radius.pixels();
    case proto::Radius::kOver255:
      return radius.over_255() / 255.0;
    case proto::Radius::VALUE_NOT_SET:
      break;
  }
  LOG(FATAL) << "RadiusToPixels: radius has no value; call ValidateRadius first";
}

std::string RadiusLabel(const proto::Radius& radius) {
  switch (radius.value_case()) {
    case proto::Radius::kPixels:
      return absl::StrFormat("%g", radius.pixels());
    case proto::Radius::kOver255:
      return absl::StrFormat("%g/255", radius.over_255());
    case proto::Radius::VALUE_NOT_SET:
      break;
  }
  return "unset";
}

absl::Status ValidatePixelRadius(double pixels, absl::string_view field) {
  if (pixels > 0.0 && pixels <= 1.0) return absl::OkStatus();  // False for NaN.
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": must be in (0, 1] pixel units, got ", absl::StrFormat("%g", pixels)));
}

absl::Status ValidateRadius(const proto::Radius& radius, absl::string_view field) {
  if (radius.value_case() == proto::Radius::VALUE_NOT_SET) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": must be set (pixels or over_255)"));
  }
  const double pixels = RadiusToPixels(radius);
  if (!(pixels > 0.0 && pixels <= 1.0)) {  // Also rejects NaN.
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": must be in (0, 1] pixel units, got ", RadiusLabel(radius)));
  }
  return absl::OkStatus();
}

}  // namespace robustness
