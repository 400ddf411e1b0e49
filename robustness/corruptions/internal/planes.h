// The working image of every corruption: planar values (channel-major, C x H x W), float64 (the
// precision the Python references compute in, NumPy float64 after `np.array(x) / 255.`) or
// float32 (PlanesF, where the README's deviations list says so).
#ifndef ROBUSTNESS_CORRUPTIONS_INTERNAL_PLANES_H_
#define ROBUSTNESS_CORRUPTIONS_INTERNAL_PLANES_H_

#include <cstdint>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include "robustness/augmentation/uint8_image.h"

namespace robustness::corruptions_internal {

// std::allocator, except that value-initialisation (vector(n), resize(n)) default-initialises:
// new float / double elements are left unset instead of zeroed. Filling constructors and
// assignments behave as usual.
template <typename T>
struct DefaultInitAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  DefaultInitAllocator() = default;
  template <typename U>
  DefaultInitAllocator(const DefaultInitAllocator<U>&) noexcept {}  // NOLINT: rebinding
  template <typename U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

// BasicPlanes(kUninitialized, c, h, w): values unset, for callers that write every one before
// reading any (the zeroing is a pass over the whole image otherwise).
struct UninitializedTag {};
inline constexpr UninitializedTag kUninitialized{};

template <typename T>
struct BasicPlanes {
  int64_t channels = 0;
  int64_t height = 0;
  int64_t width = 0;
  std::vector<T, DefaultInitAllocator<T>> v;

  BasicPlanes() = default;
  BasicPlanes(int64_t c, int64_t h, int64_t w, T value = 0)
      : channels(c), height(h), width(w), v(static_cast<size_t>(c * h * w), value) {}
  BasicPlanes(UninitializedTag, int64_t c, int64_t h, int64_t w)
      : channels(c), height(h), width(w), v(static_cast<size_t>(c * h * w)) {}
  int64_t plane_size() const { return height * width; }
  T* plane(int64_t c) { return v.data() + c * plane_size(); }
  const T* plane(int64_t c) const { return v.data() + c * plane_size(); }
  T& at(int64_t c, int64_t y, int64_t x) { return v[(c * height + y) * width + x]; }
  T at(int64_t c, int64_t y, int64_t x) const { return v[(c * height + y) * width + x]; }
};
using Planes = BasicPlanes<double>;
// float32 planes: for the filters whose references compute in float32, and for the random
// corruptions' filters, where float32 round-off (~1e-5 of a grey level) is far below the
// spread of the draws. Each use says which.
using PlanesF = BasicPlanes<float>;

// v * scale for every value (scale 1/255 turns uint8 into the references' [0, 1] floats).
Planes ToPlanes(const Uint8Image& image, double scale);
// float(v * scale), the value rounded once from float64 (NumPy's (x / 255.).astype(float32)).
PlanesF ToPlanesF(const Uint8Image& image, double scale);

// Tests only: false keeps ToPlanesF and the Truncate* functions on their portable loops (the
// AVX-512 kernels compute the same bits; planes_test compares them).
void SetPlanesAvx512AllowedForTesting(bool allowed);

// The references' last step, np.uint8(np.clip(x, 0, 1) * 255): clip to [0, 1], times 255,
// truncate. One deviation: 2^-20 of a grey level is added before truncating, so that round-off a
// hair below an integer does not drop a level (the references' own RGB -> HSV -> RGB round trip
// loses one level on ~20% of values through it; with the guard, identity settings are identity).
Uint8Image TruncateUnit(const Planes& x);
// The same for values already in [0, 255] units (frost, motion blur): clip to [0, 255], truncate.
Uint8Image Truncate255(const Planes& x);
// The float32 counterparts, in float32 arithmetic. Their guard is 2^-10 of a grey level, above
// the round-off of a float32 filter (a 2 x 25-tap Gaussian is off by up to ~1e-3 of a level at
// 255; a flat image must stay flat), and still below any difference the references' checks see.
Uint8Image TruncateUnit(const PlanesF& x);
Uint8Image Truncate255(const PlanesF& x);

// The truncation of one value, uint8(min(clip(v, 0, hi) * scale + guard, 255)): the expression
// of every Truncate* above (TruncateUnit: hi 1, scale 255), always inlined so that the loops
// around it vectorise in their callers' clones. For fused loops of float32 the truncation guard
// is kTruncationGuardF, and hi and scale come from OpaqueFloat, set before the loop: with them
// literal, GCC 12 turns the clamps into branches and the loop stays scalar.
inline constexpr float kTruncationGuardF = 1.0f / (1 << 10);
template <typename T>
__attribute__((always_inline)) inline uint8_t TruncatedLevel(T v, T hi, T scale, T guard) {
  v = v < T(0) ? T(0) : v;
  v = hi < v ? hi : v;
  v = v * scale + guard;
  v = T(255) < v ? T(255) : v;
  return static_cast<uint8_t>(static_cast<int32_t>(v));
}
// v, as a value the compiler cannot see through.
__attribute__((always_inline)) inline float OpaqueFloat(float v) {
  asm("" : "+x"(v));
  return v;
}

// Reflect-101 (OpenCV's default border, "gfedcb|abcdefgh|gfedcba") index into [0, n).
inline int64_t Reflect101(int64_t i, int64_t n) {
  if (i >= 0 && i < n) return i;  // the common case, without a division
  if (n == 1) return 0;
  const int64_t period = 2 * (n - 1);
  i %= period;
  if (i < 0) i += period;
  return i < n ? i : period - i;
}
// Half-sample symmetric ("dcba|abcd|dcba", SciPy 'reflect', OpenCV BORDER_REFLECT) index.
inline int64_t ReflectHalf(int64_t i, int64_t n) {
  if (i >= 0 && i < n) return i;  // the common case, without a division
  const int64_t period = 2 * n;
  i %= period;
  if (i < 0) i += period;
  return i < n ? i : period - 1 - i;
}
inline int64_t Clamp(int64_t i, int64_t n) { return i < 0 ? 0 : (i >= n ? n - 1 : i); }

}  // namespace robustness::corruptions_internal

#endif  // ROBUSTNESS_CORRUPTIONS_INTERNAL_PLANES_H_
