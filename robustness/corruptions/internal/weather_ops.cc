// Weather (ood_suite.md 1.2, 10-13) and spatter (18).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <memory>
#include <vector>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "robustness/corruptions/internal/filters.h"
#include "robustness/corruptions/internal/opencv_ops.h"
#include "robustness/corruptions/internal/ops.h"
#include "robustness/corruptions/internal/planes.h"

namespace robustness::corruptions_internal {
namespace {

int64_t NextPowerOfTwo(int64_t x) {
  int64_t p = 1;
  while (p < x) p *= 2;
  return p;
}

// Luma of the references' colour constants and frost photographs for grey images (0.2989,
// 0.5870, 0.1140 as imagecorruptions' rgb2gray; applied to RGB, not to its BGR frost crop).
double Luma(double r, double g, double b) { return 0.2989 * r + 0.5870 * g + 0.1140 * b; }

// One row of fog before truncation, (x / 255 + c0 layer) scale, in float32 (fog is random; the
// reference's float64 differs in the 7th digit), vectorised by the compiler on each clone (with
// the truncation in the same loop it was not: TruncateUnit(PlanesF) follows).
__attribute__((target_clones("avx512f", "avx2", "default"))) void FogRow(
    const uint8_t* __restrict in, const float* __restrict layer, int64_t n, float c0,
    float scale, float* __restrict out) {
  for (int64_t i = 0; i < n; ++i) {
    out[i] = (static_cast<float>(in[i]) * (1.0f / 255.0f) + c0 * layer[i]) * scale;
  }
}

// Snow's grey image: 0.299 r + 0.587 g + 0.114 b of x / 255 in float32 (g == nullptr: the grey
// value itself).
__attribute__((target_clones("avx512f", "avx2", "default"))) void SnowGray(
    const uint8_t* __restrict r, const uint8_t* __restrict g, const uint8_t* __restrict b,
    int64_t n, float* __restrict out) {
  if (g == nullptr) {
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(r[i]) / 255.0f;
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    out[i] = 0.299f * (static_cast<float>(r[i]) / 255.0f) +
             0.587f * (static_cast<float>(g[i]) / 255.0f) +
             0.114f * (static_cast<float>(b[i]) / 255.0f);
  }
}

// out = blend x + (1 - blend) max(x, 1.5 gray + 0.5) + layers, in float32 (the reference's float32
// arrays; its snow layers are float64, here float32: a random layer).
__attribute__((target_clones("avx512f", "avx2", "default"))) void SnowBlend(
    const uint8_t* __restrict in, const float* __restrict gray, const float* __restrict layers,
    int64_t n, float blend, float* __restrict out) {
  for (int64_t i = 0; i < n; ++i) {
    const float v = static_cast<float>(in[i]) / 255.0f;
    const float lifted = gray[i] * 1.5f + 0.5f;
    const float mixed = blend * v + (1.0f - blend) * (v < lifted ? lifted : v);
    out[i] = mixed + layers[i];
  }
}

}  // namespace

// imagecorruptions' snow for every table (Hendrycks' scripts blur the layer with ImageMagick
// through a PNG round trip instead, whose internals are not specified: ood_suite.md 1.2, 10).
Uint8Image Snow(const Uint8Image& x, const Params& p, Random* random) {
  const double mu = p[0], sigma = p[1], zoom = p[2], threshold = p[3], blend = p[6];
  const int radius = static_cast<int>(p[4]);
  const double blur_sigma = p[5];
  const int64_t h = x.height, w = x.width;
  // Only the centred crop that clipped_zoom reads is drawn (ceil(H / z) x ceil(W / z), 1/16 of
  // the layer at zoom 4): the other values of the reference's layer never reach the output, and
  // the drawn ones are the same i.i.d. normals.
  Planes layer(1, h, w);
  {
    const int64_t ch = static_cast<int64_t>(std::ceil(h / zoom));
    const int64_t cw = static_cast<int64_t>(std::ceil(w / zoom));
    const int64_t top = (h - ch) / 2, left = (w - cw) / 2;
    Random local = *random;
    for (int64_t r = top; r < top + ch; ++r) {
      double* row = layer.plane(0) + r * w;
      for (int64_t c = left; c < left + cw; ++c) row[c] = mu + sigma * local.Normal();
    }
    *random = local;
  }
  // The zoomed layer is kept whole (not trimmed) through the motion blur, as the reference.
  const Planes zoomed = ClippedZoom(layer, zoom, INT64_MAX, INT64_MAX, /*float32=*/false);
  PlanesF zoomed_f(1, zoomed.height, zoomed.width);
  for (size_t i = 0; i < zoomed.v.size(); ++i) {
    const double v = zoomed.v[i];
    zoomed_f.v[i] = static_cast<float>(v < threshold ? 0.0 : std::min(v, 1.0));
  }
  const double angle = random->Uniform(-135, -45);
  const PlanesF blurred = MotionBlur(zoomed_f, radius, blur_sigma, angle);
  // np.round (half to even) to uint8, / 255; then the layer plus its 180-degree rotation.
  float snow_level[256];
  for (int v = 0; v < 256; ++v) snow_level[v] = static_cast<float>(v / 255.0);
  std::vector<float> snow(static_cast<size_t>(h * w)), layers(static_cast<size_t>(h * w));
  for (int64_t r = 0; r < h; ++r) {
    const float* b = blurred.plane(0) + r * blurred.width;
    for (int64_t c = 0; c < w; ++c) {
      snow[r * w + c] = snow_level[static_cast<uint8_t>(std::nearbyint(b[c] * 255.0f))];
    }
  }
  for (int64_t i = 0; i < h * w; ++i) layers[i] = snow[i] + snow[h * w - 1 - i];
  // cv2.cvtColor(float32, RGB2GRAY) of x / 255 (float32 division, vectorised as the scalar's).
  std::vector<float> gray(static_cast<size_t>(h * w));
  if (x.channels == 3) {
    SnowGray(x.plane(0), x.plane(1), x.plane(2), h * w, gray.data());
  } else {
    SnowGray(x.plane(0), nullptr, nullptr, h * w, gray.data());
  }
  PlanesF out(x.channels, h, w);
  for (int64_t c = 0; c < x.channels; ++c) {
    SnowBlend(x.plane(c), gray.data(), layers.data(), h * w, static_cast<float>(blend),
              out.plane(c));
  }
  return TruncateUnit(out);
}

absl::StatusOr<Uint8Image> Frost(const Uint8Image& x, const Params& p, const OpContext& context,
                                 Random* random) {
  if (context.frost_count <= 0 || !context.frost_image) {
    return absl::FailedPreconditionError(
        "frost needs frost photographs: set corruption.frost.folder and frost.files");
  }
  const int index = static_cast<int>(random->RandInt(0, context.frost_count));
  absl::StatusOr<const Uint8Image*> frost_or = context.frost_image(index, x.height, x.width);
  if (!frost_or.ok()) return frost_or.status();
  const Uint8Image& frost = **frost_or;
  // The references' randint(0, n) would raise for n == 0; an exact fit starts at 0 here.
  const int64_t top = random->RandInt(0, frost.height - x.height);
  const int64_t left = random->RandInt(0, frost.width - x.width);
  Planes out(x.channels, x.height, x.width);
  for (int64_t r = 0; r < x.height; ++r) {
    for (int64_t c = 0; c < x.width; ++c) {
      const int64_t fi = (top + r) * frost.width + (left + c);
      if (x.channels == 3) {
        for (int64_t ch = 0; ch < 3; ++ch) {
          out.at(ch, r, c) = p[0] * x.plane(ch)[r * x.width + c] + p[1] * frost.plane(ch)[fi];
        }
      } else {
        const double g = Luma(frost.plane(0)[fi], frost.plane(1)[fi], frost.plane(2)[fi]);
        out.at(0, r, c) = p[0] * x.plane(0)[r * x.width + c] + p[1] * g;
      }
    }
  }
  return Truncate255(out);
}

// Map size: imagecorruptions next_pow2(max(H, W, C)); Hendrycks 256 (IN-C), 32 (CIFAR), 64
// (Tiny), raised to next_pow2 of the longer side for larger images (where theirs would fail).
Uint8Image Fog(const Uint8Image& x, const Params& p, const OpContext& context, Random* random) {
  const int64_t side = std::max({x.height, x.width, x.channels == 3 ? int64_t{3} : int64_t{1}});
  int64_t map_size = NextPowerOfTwo(side);
  if (context.table == proto::IMAGENET_C) map_size = std::max<int64_t>(map_size, 256);
  if (context.table == proto::CIFAR10_C) map_size = std::max<int64_t>(map_size, 32);
  if (context.table == proto::TINY_IMAGENET_C) map_size = std::max<int64_t>(map_size, 64);
  uint8_t max_level = 0;  // a plain reduction (vectorised; std::max_element is a serial chain)
  for (const uint8_t v : x.data) max_level = std::max(max_level, v);
  const double max_value = max_level / 255.0;
  const std::vector<float> plasma = PlasmaFractal(map_size, p[1], random);
  // (x + c0 plasma) max / (max + c0): the division by the constant (max + c0) is a
  // multiplication by max / (max + c0) here, in float32 (FogRow).
  const double scale = max_value / (max_value + p[0]);
  PlanesF y(kUninitialized, x.channels, x.height, x.width);  // FogRow writes every value
  for (int64_t c = 0; c < x.channels; ++c) {
    for (int64_t r = 0; r < x.height; ++r) {
      const int64_t offset = r * x.width;
      FogRow(x.plane(c) + offset, plasma.data() + r * map_size, x.width,
             static_cast<float>(p[0]), static_cast<float>(scale), y.plane(c) + offset);
    }
  }
  return TruncateUnit(y);
}

// V <- clip(V + c) in skimage's HSV; on grey images V is the value itself.
Uint8Image Brightness(const Uint8Image& x, const Params& p) {
  Planes y = ToPlanes(x, 1.0 / 255.0);
  if (y.channels == 1) {
    for (double& v : y.v) v = std::clamp(v + p[0], 0.0, 1.0);
    return TruncateUnit(y);
  }
  MapHsv(&y, [&](double*, double*, double* v) { *v = std::clamp(*v + p[0], 0.0, 1.0); });
  return TruncateUnit(y);
}

namespace {

// u / 255 in float32: the reference's np.array(x, np.float32) / 255. (vdivps is cheaper here
// than ToPlanesF's float64 product, which filters_test shows rounds to the same values).
__attribute__((always_inline)) inline float UnitOf(uint8_t u) {
  return static_cast<float>(static_cast<int32_t>(u)) / 255.0f;
}

// One plane of spatter's blends, in float32 with x = in / 255: water adds m col clipped to 1
// (the reference clips m col on grey images; on RGB the clip of the sum gives the same), mud
// mixes x (1 - m) + m col; then TruncateUnit(PlanesF)'s clip and truncation. The portable loop
// (vectorised by GCC at the baseline) and the AVX2 / AVX-512 kernels compute the same bits: the
// same operations in the same order, the clamps as min / max with the comparisons' NaN
// behaviour, and u / 255 as the product u (1 / 255) corrected by two FMAs, q = q0 + (u - 255 q0)
// / 255, which is the correctly rounded quotient for every u (vdivps's throughput bounded the
// blends; weather_ops_test compares the kernels on all 256 values).
void SpatterBlendPortable(const uint8_t* __restrict in, const float* __restrict m, float col,
                          bool mud, int64_t n, uint8_t* __restrict out) {
  const float one = OpaqueFloat(1.0f), scale = OpaqueFloat(255.0f);
  if (mud) {
    for (int64_t i = 0; i < n; ++i) {
      out[i] = TruncatedLevel(UnitOf(in[i]) * (1.0f - m[i]) + m[i] * col, one, scale,
                              kTruncationGuardF);
    }
    return;
  }
  for (int64_t i = 0; i < n; ++i) {
    const float add = m[i] * col;
    out[i] = TruncatedLevel(UnitOf(in[i]) + (add < 1.0f ? add : 1.0f), one, scale,
                            kTruncationGuardF);
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
// The kernels, 8 and 16 values a step, line for line the same; each returns how far it got.
__attribute__((target("avx2,fma"))) int64_t SpatterBlendAvx2(const uint8_t* in, const float* m,
                                                             float col, bool mud, int64_t n,
                                                             uint8_t* out) {
  const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
  const __m256 v255 = _mm256_set1_ps(255.0f), inv = _mm256_set1_ps(1.0f / 255.0f);
  const __m256 guard = _mm256_set1_ps(kTruncationGuardF), vcol = _mm256_set1_ps(col);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 u = _mm256_cvtepi32_ps(
        _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(in + i))));
    const __m256 q0 = _mm256_mul_ps(u, inv);
    const __m256 x = _mm256_fmadd_ps(_mm256_fnmadd_ps(q0, v255, u), inv, q0);  // u / 255
    const __m256 mm = _mm256_loadu_ps(m + i);
    __m256 v;
    if (mud) {
      v = _mm256_add_ps(_mm256_mul_ps(x, _mm256_sub_ps(one, mm)), _mm256_mul_ps(mm, vcol));
    } else {
      v = _mm256_add_ps(x, _mm256_min_ps(_mm256_mul_ps(mm, vcol), one));
    }
    v = _mm256_min_ps(one, _mm256_max_ps(zero, v));
    v = _mm256_min_ps(v255, _mm256_add_ps(_mm256_mul_ps(v, v255), guard));
    const __m256i k = _mm256_cvttps_epi32(v);  // 0 .. 255
    const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(k), _mm256_extracti128_si256(k, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out + i), _mm_packus_epi16(w, w));
  }
  return i;
}

__attribute__((target("avx512f"))) int64_t SpatterBlendAvx512(const uint8_t* in, const float* m,
                                                              float col, bool mud, int64_t n,
                                                              uint8_t* out) {
  const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
  const __m512 v255 = _mm512_set1_ps(255.0f), inv = _mm512_set1_ps(1.0f / 255.0f);
  const __m512 guard = _mm512_set1_ps(kTruncationGuardF), vcol = _mm512_set1_ps(col);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512 u = _mm512_cvtepi32_ps(
        _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i))));
    const __m512 q0 = _mm512_mul_ps(u, inv);
    const __m512 x = _mm512_fmadd_ps(_mm512_fnmadd_ps(q0, v255, u), inv, q0);  // u / 255
    const __m512 mm = _mm512_loadu_ps(m + i);
    __m512 v;
    if (mud) {
      v = _mm512_add_ps(_mm512_mul_ps(x, _mm512_sub_ps(one, mm)), _mm512_mul_ps(mm, vcol));
    } else {
      v = _mm512_add_ps(x, _mm512_min_ps(_mm512_mul_ps(mm, vcol), one));
    }
    v = _mm512_min_ps(one, _mm512_max_ps(zero, v));
    v = _mm512_min_ps(v255, _mm512_add_ps(_mm512_mul_ps(v, v255), guard));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                     _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(v)));  // 0 .. 255
  }
  return i;
}
#endif

std::atomic<int> g_spatter_blend_limit{2};  // SetSpatterBlendSimdForTesting

void SpatterBlend(const uint8_t* in, const float* m, float col, bool mud, int64_t n,
                  uint8_t* out) {
  int64_t done = 0;
#if defined(__x86_64__) && defined(__GNUC__)
  static const int kSupported =
      __builtin_cpu_supports("avx512f")                                   ? 2
      : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1
                                                                        : 0;
  const int level = std::min(kSupported, g_spatter_blend_limit.load(std::memory_order_relaxed));
  if (level == 2) done = SpatterBlendAvx512(in, m, col, mud, n, out);
  if (level == 1) done = SpatterBlendAvx2(in, m, col, mud, n, out);
#endif
  SpatterBlendPortable(in + done, m + done, col, mud, n - done, out + done);
}

}  // namespace

void SetSpatterBlendSimdForTesting(int limit) {
  CHECK(limit >= 0 && limit <= 2) << limit;
  g_spatter_blend_limit.store(limit, std::memory_order_relaxed);
}

// imagecorruptions' spatter with our bit-exact equivalents of OpenCV's Canny, distanceTransform,
// equalizeHist, blur and filter2D on the same types (opencv_ops.h; ood_suite.md 1.2, 18).
// Colours are RGB: water (175, 238, 238), mud (63, 42, 20); on grey images their luma. The
// blends are float32, as the reference's liquid blend is (its image is float32); its mud blend
// adds a float64 colour, a round-off apart.
// Compiled for AVX-512, AVX2 and the baseline (its element-wise loops vectorised on each; no
// FMA contraction, so each computes the same bits).
__attribute__((target_clones("avx512f", "avx2", "default"))) Uint8Image Spatter(
    const Uint8Image& x, const Params& p, Random* random) {
  const double mu = p[0], sigma = p[1], blur_sigma = p[2], threshold = p[3], k = p[4];
  const bool mud = p[5] != 0;
  const int64_t h = x.height, w = x.width, n = h * w;
  // The liquid layer in float32 (a random field: the filter's round-off, ~1e-7 relative, is
  // nothing beside the draws). Uninitialised buffers: every value is written before it is read.
  std::unique_ptr<float[]> liquid(new float[static_cast<size_t>(n)]);
  random->FillNormalLanes(mu, sigma, liquid.get(), n);
  GaussianFilter(liquid.get(), h, w, blur_sigma, blur_sigma, 4.0, Border::kNearest,
                 liquid.get());
  // Compared in float64, as the reference's float64 layer is (branch-free: vectorised).
  for (int64_t i = 0; i < n; ++i) liquid[i] = liquid[i] < threshold ? 0.0f : liquid[i];
  // The blends below, fused: x / 255 in float32 (the reference's image), the spatter added,
  // TruncateUnit(PlanesF)'s clip and truncation.
  Uint8Image out(x.channels, h, w);
  const uint8_t* in = x.data.data();
  uint8_t* o = out.data.data();
  std::unique_ptr<float[]> m(new float[static_cast<size_t>(n)]);
  if (!mud) {
    std::unique_ptr<uint8_t[]> layer(new uint8_t[static_cast<size_t>(n)]);
    for (int64_t i = 0; i < n; ++i) {
      // astype(np.uint8): truncation (values past 255 wrap, as NumPy's cast on x86). Through
      // int32, which vectorises (the layer is a few units at most, far below 2^31).
      layer[i] = static_cast<uint8_t>(static_cast<int32_t>(liquid[i] * 255));
    }
    std::unique_ptr<uint8_t[]> edges(new uint8_t[static_cast<size_t>(n)]);
    Canny3x3L1(layer.get(), h, w, 50, 150, edges.get());
    for (int64_t i = 0; i < n; ++i) edges[i] = static_cast<uint8_t>(255 - edges[i]);
    // distanceTransform, threshold(20, TRUNC), blur and astype(uint8), in integers.
    std::unique_ptr<uint32_t[]> dist(new uint32_t[static_cast<size_t>(n)]);
    ChamferDistance5x5Fixed(edges.get(), h, w, dist.get());
    uint8_t* dist8 = edges.get();  // reused
    CappedBlurredDistanceLevels(dist.get(), h, w, 20, dist8);
    EqualizeHistogram(dist8, n, dist8);
    static constexpr int kEmboss[9] = {-2, -1, 0, -1, 1, 1, 0, 1, 2};
    Correlate3x3(dist8, h, w, kEmboss, dist8);
    BoxBlur3x3(dist8, h, w, dist8);
    // The products are integers below 2^16, exact in float32: the maximum in integers
    // (vectorised; a float maximum would not be without -ffinite-math-only).
    int32_t max_product = 0;
    for (int64_t i = 0; i < n; ++i) {
      const int32_t product = static_cast<int32_t>(layer[i]) * static_cast<int32_t>(dist8[i]);
      m[i] = static_cast<float>(product);
      max_product = std::max(max_product, product);
    }
    const float max_m = static_cast<float>(max_product);
    // m / max(m) * k; an all-zero layer (nothing above the threshold) adds nothing (the
    // reference divides 0 by 0).
    const float kf = static_cast<float>(k);
    for (int64_t i = 0; i < n; ++i) m[i] = max_m > 0 ? m[i] / max_m * kf : 0.0f;
    const double color[3] = {175 / 255.0, 238 / 255.0, 238 / 255.0};
    for (int64_t c = 0; c < x.channels; ++c) {
      const float col = static_cast<float>(
          x.channels == 3 ? color[c] : Luma(color[0], color[1], color[2]));
      SpatterBlend(in + c * n, m.get(), col, /*mud=*/false, n, o + c * n);
    }
    return out;
  }
  for (int64_t i = 0; i < n; ++i) m[i] = liquid[i] > threshold ? 1.0f : 0.0f;
  GaussianFilter(m.get(), h, w, k, k, 4.0, Border::kNearest, m.get());
  for (int64_t i = 0; i < n; ++i) m[i] = m[i] < 0.8f ? 0.0f : m[i];
  const double color[3] = {63 / 255.0, 42 / 255.0, 20 / 255.0};
  const double grey = Luma(color[0], color[1], color[2]);
  for (int64_t c = 0; c < x.channels; ++c) {
    const float col = static_cast<float>(x.channels == 3 ? color[c] : grey);
    SpatterBlend(in + c * n, m.get(), col, /*mud=*/true, n, o + c * n);
  }
  return out;
}

}  // namespace robustness::corruptions_internal
