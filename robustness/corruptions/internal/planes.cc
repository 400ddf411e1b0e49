#include "robustness/corruptions/internal/planes.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "glog/logging.h"

namespace robustness::corruptions_internal {
namespace {

// 2^-20 of a grey level: far below any real difference, above float64 round-off at 255.
constexpr double kTruncationGuard = 1.0 / (1 << 20);

}  // namespace

Planes ToPlanes(const Uint8Image& image, double scale) {
  Planes x(kUninitialized, image.channels, image.height, image.width);
  for (size_t i = 0; i < image.data.size(); ++i) x.v[i] = image.data[i] * scale;
  return x;
}

namespace {

// out[i] = float(in[i] * scale) (the product in float64, rounded once). A plain loop: GCC's
// auto-vectoriser widens uint8 -> int32 -> float64 well, its vector-extension conversions not.
__attribute__((target_clones("avx512f", "avx2", "default"))) void ScaleToFloatPortable(
    const uint8_t* in, int64_t n, double scale, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(static_cast<int32_t>(in[i]) * scale);
}

std::atomic<bool> g_planes_avx512_allowed{true};  // SetPlanesAvx512AllowedForTesting

bool UseAvx512() {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool kHas = __builtin_cpu_supports("avx512f");
  return kHas && g_planes_avx512_allowed.load(std::memory_order_relaxed);
#else
  return false;
#endif
}

#if defined(__x86_64__) && defined(__GNUC__)
// The portable loops' operations written out for 16 values a step (GCC vectorises them 8 wide,
// with a masking-and-packing chain for the conversion to bytes); the same bits. Each returns how
// far it got.
__attribute__((target("avx512f"))) int64_t ScaleToFloatAvx512(const uint8_t* in, int64_t n,
                                                              double scale, float* out) {
  const __m512d k = _mm512_set1_pd(scale);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512i u =
        _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i)));
    const __m256 lo = _mm512_cvtpd_ps(
        _mm512_mul_pd(_mm512_cvtepi32_pd(_mm512_castsi512_si256(u)), k));
    const __m256 hi = _mm512_cvtpd_ps(
        _mm512_mul_pd(_mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(u, 1)), k));
    _mm256_storeu_ps(out + i, lo);
    _mm256_storeu_ps(out + i + 8, hi);
  }
  return i;
}

// TruncatedLevel: max(0, v) and min(hi, v) in that operand order keep its comparisons' NaN
// behaviour (a NaN passes both and truncates to 0, as the scalar conversion gives).
__attribute__((target("avx512f"))) int64_t TruncateAvx512(const float* x, int64_t n, float hi,
                                                          float scale, float guard, uint8_t* out) {
  const __m512 zero = _mm512_setzero_ps(), vhi = _mm512_set1_ps(hi);
  const __m512 vscale = _mm512_set1_ps(scale), vguard = _mm512_set1_ps(guard);
  const __m512 v255 = _mm512_set1_ps(255.0f);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512 v = _mm512_min_ps(vhi, _mm512_max_ps(zero, _mm512_loadu_ps(x + i)));
    v = _mm512_min_ps(v255, _mm512_add_ps(_mm512_mul_ps(v, vscale), vguard));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                     _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(v)));
  }
  return i;
}

// Eight float64 values' levels as int32.
__attribute__((target("avx512f"), always_inline)) inline __m256i Levels8(const double* p,
                                                                        __m512d hi, __m512d scale,
                                                                        __m512d guard) {
  __m512d v = _mm512_min_pd(hi, _mm512_max_pd(_mm512_setzero_pd(), _mm512_loadu_pd(p)));
  v = _mm512_min_pd(_mm512_set1_pd(255.0), _mm512_add_pd(_mm512_mul_pd(v, scale), guard));
  return _mm512_cvttpd_epi32(v);
}

__attribute__((target("avx512f"))) int64_t TruncateAvx512(const double* x, int64_t n, double hi,
                                                          double scale, double guard,
                                                          uint8_t* out) {
  const __m512d vhi = _mm512_set1_pd(hi), vscale = _mm512_set1_pd(scale);
  const __m512d vguard = _mm512_set1_pd(guard);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512i k = _mm512_inserti64x4(
        _mm512_castsi256_si512(Levels8(x + i, vhi, vscale, vguard)),
        Levels8(x + i + 8, vhi, vscale, vguard), 1);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm512_cvtepi32_epi8(k));
  }
  return i;
}
#endif

void ScaleToFloat(const uint8_t* in, int64_t n, double scale, float* out) {
  int64_t done = 0;
#if defined(__x86_64__) && defined(__GNUC__)
  if (UseAvx512()) done = ScaleToFloatAvx512(in, n, scale, out);
#endif
  ScaleToFloatPortable(in + done, n - done, scale, out + done);
}

}  // namespace

void SetPlanesAvx512AllowedForTesting(bool allowed) {
  g_planes_avx512_allowed.store(allowed, std::memory_order_relaxed);
}

PlanesF ToPlanesF(const Uint8Image& image, double scale) {
  PlanesF x(kUninitialized, image.channels, image.height, image.width);
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

__attribute__((target_clones("avx512f", "avx2", "default"))) void TruncatePortable(
    const double* x, int64_t n, double hi, double scale, uint8_t* out) {
  TruncateLoop(x, n, hi, scale, kTruncationGuard, out);
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void TruncatePortable(
    const float* x, int64_t n, float hi, float scale, uint8_t* out) {
  TruncateLoop(x, n, hi, scale, kTruncationGuardF, out);
}

template <typename T>
void Truncate(const T* x, int64_t n, T hi, T scale, uint8_t* out) {
  int64_t done = 0;
#if defined(__x86_64__) && defined(__GNUC__)
  const T guard = sizeof(T) == 4 ? T(kTruncationGuardF) : T(kTruncationGuard);
  if (UseAvx512()) done = TruncateAvx512(x, n, hi, scale, guard, out);
#endif
  TruncatePortable(x + done, n - done, hi, scale, out + done);
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
