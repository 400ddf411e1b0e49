#include "robustness/corruptions/internal/planes.h"

#include <algorithm>

namespace robustness::corruptions_internal {
namespace {

// 2^-20 of a grey level: far below any real difference, above float64 round-off at 255.
constexpr double kTruncationGuard = 1.0 / (1 << 20);

}  // namespace

Planes ToPlanes(const Uint8Image& image, double scale) {
  Planes x(image.channels, image.height, image.width);
  for (size_t i = 0; i < image.data.size(); ++i) x.v[i] = image.data[i] * scale;
  return x;
}

Uint8Image TruncateUnit(const Planes& x) {
  Uint8Image out(x.channels, x.height, x.width);
  for (size_t i = 0; i < x.v.size(); ++i) {
    const double v = std::clamp(x.v[i], 0.0, 1.0) * 255.0 + kTruncationGuard;
    out.data[i] = static_cast<uint8_t>(std::min(v, 255.0));
  }
  return out;
}

Uint8Image Truncate255(const Planes& x) {
  Uint8Image out(x.channels, x.height, x.width);
  for (size_t i = 0; i < x.v.size(); ++i) {
    const double v = std::clamp(x.v[i], 0.0, 255.0) + kTruncationGuard;
    out.data[i] = static_cast<uint8_t>(std::min(v, 255.0));
  }
  return out;
}

}  // namespace robustness::corruptions_internal
