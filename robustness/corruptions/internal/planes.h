// The working image of every corruption: planar float64 values (channel-major, C x H x W), the
// precision the Python references compute in (NumPy float64 after `np.array(x) / 255.`).
#ifndef ROBUSTNESS_CORRUPTIONS_INTERNAL_PLANES_H_
#define ROBUSTNESS_CORRUPTIONS_INTERNAL_PLANES_H_

#include <cstdint>
#include <vector>

#include "robustness/augmentation/uint8_image.h"

namespace robustness::corruptions_internal {

struct Planes {
  int64_t channels = 0;
  int64_t height = 0;
  int64_t width = 0;
  std::vector<double> v;

  Planes() = default;
  Planes(int64_t c, int64_t h, int64_t w, double value = 0.0)
      : channels(c), height(h), width(w), v(static_cast<size_t>(c * h * w), value) {}
  int64_t plane_size() const { return height * width; }
  double* plane(int64_t c) { return v.data() + c * plane_size(); }
  const double* plane(int64_t c) const { return v.data() + c * plane_size(); }
  double& at(int64_t c, int64_t y, int64_t x) { return v[(c * height + y) * width + x]; }
  double at(int64_t c, int64_t y, int64_t x) const { return v[(c * height + y) * width + x]; }
};

// v * scale for every value (scale 1/255 turns uint8 into the references' [0, 1] floats).
Planes ToPlanes(const Uint8Image& image, double scale);

// The references' last step, np.uint8(np.clip(x, 0, 1) * 255): clip to [0, 1], times 255,
// truncate. One deviation: 2^-20 of a grey level is added before truncating, so that round-off a
// hair below an integer does not drop a level (the references' own RGB -> HSV -> RGB round trip
// loses one level on ~20% of values through it; with the guard, identity settings are identity).
Uint8Image TruncateUnit(const Planes& x);
// The same for values already in [0, 255] units (frost, motion blur): clip to [0, 255], truncate.
Uint8Image Truncate255(const Planes& x);

// Reflect-101 (OpenCV's default border, "gfedcb|abcdefgh|gfedcba") index into [0, n).
inline int64_t Reflect101(int64_t i, int64_t n) {
  if (n == 1) return 0;
  const int64_t period = 2 * (n - 1);
  i %= period;
  if (i < 0) i += period;
  return i < n ? i : period - i;
}
// Half-sample symmetric ("dcba|abcd|dcba", SciPy 'reflect', OpenCV BORDER_REFLECT) index.
inline int64_t ReflectHalf(int64_t i, int64_t n) {
  const int64_t period = 2 * n;
  i %= period;
  if (i < 0) i += period;
  return i < n ? i : period - 1 - i;
}
inline int64_t Clamp(int64_t i, int64_t n) { return i < 0 ? 0 : (i >= n ? n - 1 : i); }

}  // namespace robustness::corruptions_internal

#endif  // ROBUSTNESS_CORRUPTIONS_INTERNAL_PLANES_H_
