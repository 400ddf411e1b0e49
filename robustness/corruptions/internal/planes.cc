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

// out[i] = float(in[i] * scale) (the product in float64, rounded once). A plain loop: GCC's
// auto-vectoriser widens uint8 -> int32 -> float64 well, its vector-extension conversions not.
__attribute__((target_clones("avx512f", "avx2", "default"))) void ScaleToFloat(
    const uint8_t* in, int64_t n, double scale, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(static_cast<int32_t>(in[i]) * scale);
}

}  // namespace

PlanesF ToPlanesF(const Uint8Image& image, double scale) {
  PlanesF x(image.channels, image.height, image.width);
  ScaleToFloat(image.data.data(), static_cast<int64_t>(image.data.size()), scale, x.v.data());
  return x;
}

namespace {

// out[i] = TruncatedLevel(x[i], ...): the scalar expression in a plain loop, which the compiler
// vectorises in each clone it is inlined into (its vector-extension conversions to uint8 were
// element by element). One body for float64 and float32.
template <typename T>
__attribute__((always_inline)) inline void TruncateLoop(const T* x, int64_t n, T hi, T scale,
                                                        T guard, uint8_t* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = TruncatedLevel(x[i], hi, scale, guard);
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void Truncate(
    const double* x, int64_t n, double hi, double scale, uint8_t* out) {
  TruncateLoop(x, n, hi, scale, kTruncationGuard, out);
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void Truncate(
    const float* x, int64_t n, float hi, float scale, uint8_t* out) {
  TruncateLoop(x, n, hi, scale, kTruncationGuardF, out);
}

template <typename T>
Uint8Image TruncateValues(const BasicPlanes<T>& x, T hi, T scale) {
  Uint8Image out(x.channels, x.height, x.width);
  Truncate(x.v.data(), static_cast<int64_t>(x.v.size()), hi, scale, out.data.data());
  return out;
}

}  // namespace

Uint8Image TruncateUnit(const PlanesF& x) { return TruncateValues(x, 1.0f, 255.0f); }
Uint8Image Truncate255(const PlanesF& x) { return TruncateValues(x, 255.0f, 1.0f); }
Uint8Image TruncateUnit(const Planes& x) { return TruncateValues(x, 1.0, 255.0); }
Uint8Image Truncate255(const Planes& x) { return TruncateValues(x, 255.0, 1.0); }

}  // namespace robustness::corruptions_internal
