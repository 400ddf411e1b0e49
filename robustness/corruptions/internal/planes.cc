#include "robustness/corruptions/internal/planes.h"

#include <algorithm>
#include <cstring>

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

namespace {

typedef double V4 __attribute__((vector_size(32)));
typedef int32_t I4 __attribute__((vector_size(16)));

// out[i] = uint8(min(clip(x[i], 0, hi) * scale + guard, 255)), four values at a time (clip and
// min as the scalar std::clamp / std::min; the conversion truncates toward zero, as the cast).
__attribute__((target_clones("avx2", "default"))) void Truncate(const double* x, int64_t n,
                                                                 double hi, double scale,
                                                                 uint8_t* out) {
  int64_t i = 0;
  const V4 zero = {0, 0, 0, 0}, top = {hi, hi, hi, hi}, s = {scale, scale, scale, scale};
  const V4 guard = {kTruncationGuard, kTruncationGuard, kTruncationGuard, kTruncationGuard};
  const V4 max = {255, 255, 255, 255};
  for (; i + 4 <= n; i += 4) {
    V4 v;
    std::memcpy(&v, x + i, sizeof(v));
    v = v < zero ? zero : v;
    v = top < v ? top : v;
    v = v * s + guard;
    v = max < v ? max : v;
    const I4 q = __builtin_convertvector(v, I4);
    for (int k = 0; k < 4; ++k) out[i + k] = static_cast<uint8_t>(q[k]);
  }
  for (; i < n; ++i) {
    const double v = std::clamp(x[i], 0.0, hi) * scale + kTruncationGuard;
    out[i] = static_cast<uint8_t>(std::min(v, 255.0));
  }
}

}  // namespace

Uint8Image TruncateUnit(const Planes& x) {
  Uint8Image out(x.channels, x.height, x.width);
  Truncate(x.v.data(), static_cast<int64_t>(x.v.size()), 1.0, 255.0, out.data.data());
  return out;
}

Uint8Image Truncate255(const Planes& x) {
  Uint8Image out(x.channels, x.height, x.width);
  Truncate(x.v.data(), static_cast<int64_t>(x.v.size()), 255.0, 1.0, out.data.data());
  return out;
}

}  // namespace robustness::corruptions_internal
