#include "robustness/augmentation/pil_resize.h"

#include <algorithm>
#include <memory>
#include <atomic>
#include <cmath>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "glog/logging.h"

namespace robustness {
namespace {

// Tests only: false keeps every pass on its SSE2 form.
std::atomic<bool> g_avx2_allowed{true};

// Fixed point of Resample.c: 32 bits - 8 (pixel) - 2 (headroom for negative lobes).
constexpr int kPrecisionBits = 32 - 8 - 2;

double BicubicFilter(double x) {
  constexpr double a = -0.5;
  x = std::fabs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

// Pillow's box filter: 1 on (-1/2, 1/2], so BOX is centre-sampled, not an exact area average.
double BoxFilter(double x) { return x > -0.5 && x <= 0.5 ? 1.0 : 0.0; }

double BilinearFilter(double x) {
  x = std::fabs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

// Per output index: the first input index, the number of taps, and `ksize` fixed-point weights.
struct Coefficients {
  int ksize = 0;
  std::vector<int> first;
  std::vector<int> count;
  std::vector<int32_t> weights;  // out_size x ksize
};

Coefficients Precompute(int64_t in_size, int64_t out_size, Resample resample) {
  const double support_1 =
      resample == Resample::kBicubic ? 2.0 : (resample == Resample::kBox ? 0.5 : 1.0);
  const double scale = static_cast<double>(in_size) / static_cast<double>(out_size);
  const double filter_scale = std::max(scale, 1.0);
  const double support = support_1 * filter_scale;
  Coefficients c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.first.resize(out_size);
  c.count.resize(out_size);
  c.weights.assign(static_cast<size_t>(out_size) * c.ksize, 0);
  std::vector<double> k(c.ksize);
  for (int64_t xx = 0; xx < out_size; ++xx) {
    const double center = (xx + 0.5) * scale;
    const double ss = 1.0 / filter_scale;
    // (int)(v + 0.5) truncates toward zero, as in C.
    const int xmin = std::max(static_cast<int>(center - support + 0.5), 0);
    const int xmax = std::min(static_cast<int>(center + support + 0.5), static_cast<int>(in_size)) -
                     xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      const double t = (x + xmin - center + 0.5) * ss;
      k[x] = resample == Resample::kBicubic  ? BicubicFilter(t)
             : resample == Resample::kBox    ? BoxFilter(t)
                                             : BilinearFilter(t);
      ww += k[x];
    }
    int32_t* w = &c.weights[static_cast<size_t>(xx) * c.ksize];
    for (int x = 0; x < xmax; ++x) {
      const double v = ww != 0.0 ? k[x] / ww : k[x];
      w[x] = static_cast<int32_t>(v < 0 ? -0.5 + v * (1 << kPrecisionBits)
                                        : 0.5 + v * (1 << kPrecisionBits));
    }
    c.first[xx] = xmin;
    c.count[xx] = xmax;
  }
  return c;
}

// Precompute's result for (in, out, resample), kept per thread: corruptions and augmentations
// resize to the same few sizes over and over. Shared pointers, so clearing a full cache never
// frees coefficients a caller still holds.
std::shared_ptr<const Coefficients> CachedCoefficients(int64_t in_size, int64_t out_size,
                                                       Resample resample) {
  struct Entry {
    int64_t in_size, out_size;
    Resample resample;
    std::shared_ptr<const Coefficients> coefficients;
  };
  thread_local std::vector<Entry> cache;
  for (const Entry& e : cache) {
    if (e.in_size == in_size && e.out_size == out_size && e.resample == resample) {
      return e.coefficients;
    }
  }
  if (cache.size() >= 32) cache.clear();
  auto c = std::make_shared<const Coefficients>(Precompute(in_size, out_size, resample));
  cache.push_back({in_size, out_size, resample, c});
  return c;
}

inline uint8_t Clip8(int32_t v) {
  if (v >= (1 << kPrecisionBits << 8)) return 255;
  if (v <= 0) return 0;
  return static_cast<uint8_t>(v >> kPrecisionBits);
}

// pmaddwd multiplies int16 pairs and adds them: each weight (|w| < 2^23) splits into
// w = hi * 2^12 + lo with 0 <= lo < 2^12, both int16, and the taps go two at a time:
// r0 w0 + r1 w1 = ((r0 hi0 + r1 hi1) << 12) + (r0 lo0 + r1 lo1), exactly. An odd last tap pairs
// with itself at weight 0. Partial sums stay below 2^31 as Pillow's own int32 sums do.
// Writes the (hi1:hi0, lo1:lo0) int16 pairs of each tap pair; returns the number of pairs.
constexpr int kMaxPairs = 64;
int PackTapPairs(const int32_t* k, int taps, int32_t hi[kMaxPairs], int32_t lo[kMaxPairs]) {
  const int pairs = (taps + 1) / 2;
  CHECK_LE(pairs, kMaxPairs) << "filter too wide";
  for (int p = 0; p < pairs; ++p) {
    const int32_t w0 = k[2 * p], w1 = 2 * p + 1 < taps ? k[2 * p + 1] : 0;
    const uint32_t hi0 = static_cast<uint32_t>(w0 >> 12) & 0xFFFF;  // arithmetic shift: floor
    const uint32_t hi1 = static_cast<uint32_t>(w1 >> 12) & 0xFFFF;
    hi[p] = static_cast<int32_t>((hi1 << 16) | hi0);
    lo[p] = ((w1 & 4095) << 16) | (w0 & 4095);
  }
  return pairs;
}

// One output row: o[x] = Clip8(2^21 + sum_j rows_j[x] * k[j]) for x in [0, width), j < taps, where
// rows_j = base + j * stride.
void ResampleOneRow(const uint8_t* base, int64_t width, int64_t stride, const int32_t* k, int taps,
                    uint8_t* o) {
  constexpr int32_t kHalf = 1 << (kPrecisionBits - 1);
  int64_t x = 0;
#if defined(__SSE2__)
  if (width < 8) goto tail;  // no vector step: skip packing the weights
  {
  int32_t hi[kMaxPairs], lo[kMaxPairs];
  const int pairs = PackTapPairs(k, taps, hi, lo);
  __m128i vhi[kMaxPairs], vlo[kMaxPairs];
  for (int p = 0; p < pairs; ++p) {
    vhi[p] = _mm_set1_epi32(hi[p]);
    vlo[p] = _mm_set1_epi32(lo[p]);
  }
  const __m128i zero = _mm_setzero_si128();
  const __m128i half = _mm_set1_epi32(kHalf);
  for (; x + 8 <= width; x += 8) {
    __m128i acc03 = half, acc47 = half;
    for (int p = 0; p < pairs; ++p) {
      const uint8_t* r0 = base + (2 * p) * stride + x;
      const uint8_t* r1 = 2 * p + 1 < taps ? r0 + stride : r0;
      const __m128i a = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(r0));
      const __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(r1));
      const __m128i ab = _mm_unpacklo_epi8(a, b);        // a0 b0 a1 b1 ... a7 b7
      const __m128i ab03 = _mm_unpacklo_epi8(ab, zero);  // int16 pairs for x .. x + 3
      const __m128i ab47 = _mm_unpackhi_epi8(ab, zero);  // x + 4 .. x + 7
      acc03 = _mm_add_epi32(acc03, _mm_add_epi32(_mm_slli_epi32(_mm_madd_epi16(ab03, vhi[p]), 12),
                                                 _mm_madd_epi16(ab03, vlo[p])));
      acc47 = _mm_add_epi32(acc47, _mm_add_epi32(_mm_slli_epi32(_mm_madd_epi16(ab47, vhi[p]), 12),
                                                 _mm_madd_epi16(ab47, vlo[p])));
    }
    // Clip8: v >> 22 clamped to [0, 255], by the saturating packs.
    const __m128i words = _mm_packs_epi32(_mm_srai_epi32(acc03, kPrecisionBits),
                                          _mm_srai_epi32(acc47, kPrecisionBits));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(o + x), _mm_packus_epi16(words, words));
  }
  }
tail:
#endif
  for (; x < width; ++x) {
    int32_t ss = kHalf;
    for (int j = 0; j < taps; ++j) ss += int32_t{base[j * stride + x]} * k[j];
    o[x] = Clip8(ss);
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
// ResampleOneRow with 256-bit registers: 16 pixels per step, the same exact integer arithmetic
// (the weight split of ResampleOneRow), then the SSE2 tail. Chosen at run time on CPUs with AVX2.
__attribute__((target("avx2"))) void ResampleOneRowAvx2(const uint8_t* base, int64_t width,
                                                        const int32_t* k, int taps, uint8_t* o) {
  int32_t hi[kMaxPairs], lo[kMaxPairs];
  const int pairs = PackTapPairs(k, taps, hi, lo);
  __m256i vhi[kMaxPairs], vlo[kMaxPairs];
  for (int p = 0; p < pairs; ++p) {
    vhi[p] = _mm256_set1_epi32(hi[p]);
    vlo[p] = _mm256_set1_epi32(lo[p]);
  }
  const __m256i half = _mm256_set1_epi32(1 << (kPrecisionBits - 1));
  int64_t x = 0;
  for (; x + 16 <= width; x += 16) {
    __m256i acc0 = half, acc1 = half;  // pixels x .. x + 7, x + 8 .. x + 15
    for (int p = 0; p < pairs; ++p) {
      const uint8_t* r0 = base + (2 * p) * width + x;
      const uint8_t* r1 = 2 * p + 1 < taps ? r0 + width : r0;
      const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r0));
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r1));
      const __m256i ab07 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(a, b));  // int16 pairs
      const __m256i ab8f = _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(a, b));
      acc0 = _mm256_add_epi32(acc0, _mm256_add_epi32(
                                        _mm256_slli_epi32(_mm256_madd_epi16(ab07, vhi[p]), 12),
                                        _mm256_madd_epi16(ab07, vlo[p])));
      acc1 = _mm256_add_epi32(acc1, _mm256_add_epi32(
                                        _mm256_slli_epi32(_mm256_madd_epi16(ab8f, vhi[p]), 12),
                                        _mm256_madd_epi16(ab8f, vlo[p])));
    }
    acc0 = _mm256_srai_epi32(acc0, kPrecisionBits);
    acc1 = _mm256_srai_epi32(acc1, kPrecisionBits);
    const __m128i w07 = _mm_packs_epi32(_mm256_castsi256_si128(acc0),
                                        _mm256_extracti128_si256(acc0, 1));
    const __m128i w8f = _mm_packs_epi32(_mm256_castsi256_si128(acc1),
                                        _mm256_extracti128_si256(acc1, 1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(o + x), _mm_packus_epi16(w07, w8f));
  }
  if (x < width) ResampleOneRow(base + x, width - x, width, k, taps, o + x);
}
#endif

// out[i][x] = Clip8(sum_j in[first_i + j][x] * k_i[j]) for i in [0, n), x in [0, width): one
// resampling pass along the slow axis of a row-major `in` with rows of `width` values, vectorised
// over x (every x shares the weights).

void ResampleRows(const uint8_t* in, int64_t width, const Coefficients& c, int64_t first_offset,
                  int64_t n, uint8_t* out) {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool kHasAvx2 = __builtin_cpu_supports("avx2");
  const bool kAvx2 = kHasAvx2 && g_avx2_allowed.load(std::memory_order_relaxed);
#else
  constexpr bool kAvx2 = false;
#endif
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* base = in + (c.first[i] - first_offset) * width;
    const int32_t* k = &c.weights[static_cast<size_t>(i) * c.ksize];
#if defined(__x86_64__) && defined(__GNUC__)
    if (kAvx2 && width >= 16) {  // narrower rows have no 16-pixel step
      ResampleOneRowAvx2(base, width, k, c.count[i], out + i * width);
      continue;
    }
#endif
    ResampleOneRow(base, width, width, k, c.count[i], out + i * width);
  }
}

// out[x][y] = in[y][x] for y in [y_begin, y_end), x in [x_begin, cols) of a rows x cols `in`
// (out is cols x rows): 8 x 8 blocks with SSE2 byte shuffles, the ragged edges one byte at a time.
void TransposeSse2(const uint8_t* in, int64_t rows, int64_t cols, int64_t y_begin, int64_t y_end,
                   int64_t x_begin, uint8_t* out) {
  int64_t y0 = y_begin;
#if defined(__SSE2__)
  for (; y0 + 8 <= y_end; y0 += 8) {
    int64_t x0 = x_begin;
    for (; x0 + 8 <= cols; x0 += 8) {
      __m128i r[8];
      for (int k = 0; k < 8; ++k) {
        r[k] = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(in + (y0 + k) * cols + x0));
      }
      const __m128i t0 = _mm_unpacklo_epi8(r[0], r[1]), t1 = _mm_unpacklo_epi8(r[2], r[3]);
      const __m128i t2 = _mm_unpacklo_epi8(r[4], r[5]), t3 = _mm_unpacklo_epi8(r[6], r[7]);
      const __m128i u0 = _mm_unpacklo_epi16(t0, t1), u1 = _mm_unpackhi_epi16(t0, t1);
      const __m128i u2 = _mm_unpacklo_epi16(t2, t3), u3 = _mm_unpackhi_epi16(t2, t3);
      // Each v holds two output rows (input columns), 8 bytes each.
      const __m128i v[4] = {_mm_unpacklo_epi32(u0, u2), _mm_unpackhi_epi32(u0, u2),
                            _mm_unpacklo_epi32(u1, u3), _mm_unpackhi_epi32(u1, u3)};
      for (int k = 0; k < 4; ++k) {
        _mm_storel_epi64(reinterpret_cast<__m128i*>(out + (x0 + 2 * k) * rows + y0), v[k]);
        _mm_storel_epi64(reinterpret_cast<__m128i*>(out + (x0 + 2 * k + 1) * rows + y0),
                         _mm_srli_si128(v[k], 8));
      }
    }
    for (; x0 < cols; ++x0) {
      for (int64_t y = y0; y < y0 + 8; ++y) out[x0 * rows + y] = in[y * cols + x0];
    }
  }
#endif
  for (; y0 < y_end; ++y0) {
    for (int64_t x = x_begin; x < cols; ++x) out[x * rows + y0] = in[y0 * cols + x];
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
// The 16 x 32 block at `in` (rows `in_stride` apart) to the 32 x 16 block at `out` (rows
// `out_stride` apart): each 128-bit lane transposes one 16 x 16 half in four rounds of unpacks
// (bytes, then 2, 4 and 8 byte units of the row pairs, quads and octets), after which vector c
// holds input column c (low lane) and column 16 + c (high lane) of all 16 rows.
__attribute__((target("avx2"))) void Transpose16x32Avx2(const uint8_t* in, int64_t in_stride,
                                                        uint8_t* out, int64_t out_stride) {
  __m256i a[16], b[16];
  for (int k = 0; k < 16; ++k) {
    a[k] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + k * in_stride));
  }
  // b[2 i], b[2 i + 1]: columns 0..7, 8..15 of rows 2 i, 2 i + 1 as byte pairs.
  for (int i = 0; i < 8; ++i) {
    b[2 * i] = _mm256_unpacklo_epi8(a[2 * i], a[2 * i + 1]);
    b[2 * i + 1] = _mm256_unpackhi_epi8(a[2 * i], a[2 * i + 1]);
  }
  // a[4 j + q]: columns 4 q .. 4 q + 3 of rows 4 j .. 4 j + 3.
  for (int j = 0; j < 4; ++j) {
    a[4 * j] = _mm256_unpacklo_epi16(b[4 * j], b[4 * j + 2]);
    a[4 * j + 1] = _mm256_unpackhi_epi16(b[4 * j], b[4 * j + 2]);
    a[4 * j + 2] = _mm256_unpacklo_epi16(b[4 * j + 1], b[4 * j + 3]);
    a[4 * j + 3] = _mm256_unpackhi_epi16(b[4 * j + 1], b[4 * j + 3]);
  }
  // b[8 m + t]: columns 2 t, 2 t + 1 of rows 8 m .. 8 m + 7.
  for (int m = 0; m < 2; ++m) {
    for (int q = 0; q < 4; ++q) {
      b[8 * m + 2 * q] = _mm256_unpacklo_epi32(a[8 * m + q], a[8 * m + 4 + q]);
      b[8 * m + 2 * q + 1] = _mm256_unpackhi_epi32(a[8 * m + q], a[8 * m + 4 + q]);
    }
  }
  // a[c]: column c of rows 0 .. 15.
  for (int t = 0; t < 8; ++t) {
    a[2 * t] = _mm256_unpacklo_epi64(b[t], b[8 + t]);
    a[2 * t + 1] = _mm256_unpackhi_epi64(b[t], b[8 + t]);
  }
  for (int c = 0; c < 16; ++c) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + c * out_stride),
                     _mm256_castsi256_si128(a[c]));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + (16 + c) * out_stride),
                     _mm256_extracti128_si256(a[c], 1));
  }
}
#endif

// out[x][y] = in[y][x] for a rows x cols `in`: 16 x 32 blocks with AVX2 where the CPU has it
// (and tests allow it), the rest (a right strip narrower than 32 and a bottom strip lower than
// 16) by TransposeSse2. Exact either way.
void Transpose(const uint8_t* in, int64_t rows, int64_t cols, uint8_t* out) {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool kHasAvx2 = __builtin_cpu_supports("avx2");
  if (kHasAvx2 && g_avx2_allowed.load(std::memory_order_relaxed) && rows >= 16 && cols >= 32) {
    const int64_t rows16 = rows - rows % 16, cols32 = cols - cols % 32;
    for (int64_t y0 = 0; y0 < rows16; y0 += 16) {
      for (int64_t x0 = 0; x0 < cols32; x0 += 32) {
        Transpose16x32Avx2(in + y0 * cols + x0, cols, out + x0 * rows + y0, rows);
      }
    }
    TransposeSse2(in, rows, cols, 0, rows16, cols32, out);  // the right strip
    TransposeSse2(in, rows, cols, rows16, rows, 0, out);    // the bottom strip
    return;
  }
#endif
  TransposeSse2(in, rows, cols, 0, rows, 0, out);
}

}  // namespace

void SetPilResizeAvx2AllowedForTesting(bool allowed) { g_avx2_allowed.store(allowed); }

// Both passes are ResampleRows: the horizontal one runs on the transposed image (so it too
// vectorises over a contiguous axis) and its result is transposed back; it takes all channels in
// one pass (their rows stacked), so small images pay the per-pass costs once. The arithmetic per
// output value is Pillow's, term for term (integer sums, so the order of terms does not matter).
Uint8Image PilResize(const Uint8Image& image, int64_t height, int64_t width, Resample resample) {
  CHECK_GE(height, 1);
  CHECK_GE(width, 1);
  CHECK(image.channels >= 1 && image.height >= 1 && image.width >= 1) << "empty image";
  const bool need_horizontal = width != image.width;
  const bool need_vertical = height != image.height;
  if (!need_horizontal && !need_vertical) return image;
  const std::shared_ptr<const Coefficients> vert_ptr =
      CachedCoefficients(image.height, height, resample);
  const Coefficients& vert = *vert_ptr;
  // Rows the vertical pass reads: the horizontal pass only computes those.
  const int64_t row_first = need_vertical ? vert.first[0] : 0;
  const int64_t row_last =
      need_vertical ? vert.first[height - 1] + vert.count[height - 1] : image.height;
  const int64_t rows = row_last - row_first;
  const int64_t channels = image.channels;
  Uint8Image out(channels, height, width);
  struct Scratch {
    std::vector<uint8_t> stacked, transposed, horizontal_t, horizontal;
  };
  thread_local Scratch scratch;
  Scratch& tls = scratch;  // one thread-local lookup
  std::vector<uint8_t>& stacked = tls.stacked;
  std::vector<uint8_t>& transposed = tls.transposed;
  std::vector<uint8_t>& horizontal_t = tls.horizontal_t;
  std::vector<uint8_t>& horizontal = tls.horizontal;
  if (need_horizontal) {
    const std::shared_ptr<const Coefficients> hor = CachedCoefficients(image.width, width, resample);
    const uint8_t* source = image.data.data();
    if (rows != image.height) {
      stacked.resize(static_cast<size_t>(channels * rows * image.width));
      for (int64_t c = 0; c < channels; ++c) {
        std::copy_n(image.plane(c) + row_first * image.width, rows * image.width,
                    stacked.data() + c * rows * image.width);
      }
      source = stacked.data();
    }
    const int64_t all_rows = channels * rows;
    transposed.resize(static_cast<size_t>(all_rows * image.width));
    Transpose(source, all_rows, image.width, transposed.data());
    horizontal_t.resize(static_cast<size_t>(width * all_rows));
    ResampleRows(transposed.data(), all_rows, *hor, 0, width, horizontal_t.data());
    horizontal.resize(static_cast<size_t>(all_rows * width));
    Transpose(horizontal_t.data(), width, all_rows, horizontal.data());
  }
  for (int64_t c = 0; c < channels; ++c) {
    const uint8_t* plane = need_horizontal ? horizontal.data() + c * rows * width : image.plane(c);
    const int64_t plane_first_row = need_horizontal ? row_first : 0;
    if (need_vertical) {
      ResampleRows(plane, width, vert, plane_first_row, height, out.plane(c));
    } else {
      std::copy_n(plane, out.plane_size(), out.plane(c));
    }
  }
  return out;
}

}  // namespace robustness
