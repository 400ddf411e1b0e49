#include "robustness/corruptions/internal/opencv_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "glog/logging.h"
#include "robustness/corruptions/internal/planes.h"

namespace robustness::corruptions_internal {
namespace {

constexpr uint32_t kStraight = 65536, kDiagonal = 91750, kKnight = 143976;
// OpenCV's DIST_MAX: the value of a pixel no zero pixel reaches, and of the border.
constexpr uint32_t kUnreached = kChamferUnreachedFixed;

// A copy of a plane with a one-pixel reflect-101 frame: row y, column x of the image at
// (y + 1) * (width + 2) + x + 1.
template <typename T>
std::vector<T> Framed(const T* src, int64_t height, int64_t width) {
  const int64_t fw = width + 2;
  std::vector<T> out(static_cast<size_t>((height + 2) * fw));
  for (int64_t y = -1; y <= height; ++y) {
    const T* row = src + Reflect101(y, height) * width;
    T* dst = out.data() + (y + 1) * fw;
    std::memcpy(dst + 1, row, static_cast<size_t>(width) * sizeof(T));
    dst[0] = row[Reflect101(-1, width)];
    dst[width + 1] = row[Reflect101(width, width)];
  }
  return out;
}

// out[k step] = min(c[k step], out[(k - 1) step] + kStraight) for k < n (out[-step] never
// below c): the scans' serial dependency, four values at a time. Within a group the prefix
// p_k = min(c_k, p_(k-1) + kStraight) needs no earlier group, and out_k = min(p_k, L + (k + 1)
// kStraight) from the last group's L: one add and one min per group on the serial chain instead
// of per value. Integer min-plus: the same values as the plain loop.
void MinPlusScan(const uint32_t* c, int64_t n, int64_t step, uint32_t* out) {
  uint32_t last = kUnreached;
  int64_t k = 0;
  for (; k + 4 <= n; k += 4) {
    const uint32_t p0 = c[k * step];
    const uint32_t p1 = std::min(c[(k + 1) * step], p0 + kStraight);
    const uint32_t p2 = std::min(c[(k + 2) * step], p1 + kStraight);
    const uint32_t p3 = std::min(c[(k + 3) * step], p2 + kStraight);
    out[k * step] = std::min(p0, last + kStraight);
    out[(k + 1) * step] = std::min(p1, last + 2 * kStraight);
    out[(k + 2) * step] = std::min(p2, last + 3 * kStraight);
    last = std::min(p3, last + 4 * kStraight);
    out[(k + 3) * step] = last;
  }
  for (; k < n; ++k) {
    last = std::min(c[k * step], last + kStraight);
    out[k * step] = last;
  }
}

}  // namespace

namespace {

// Row kernels, compiled for AVX-512, AVX2 and the baseline and picked at load time; integer
// arithmetic, so every clone computes the same values.
#define OPENCV_OPS_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

// One row of Sobel derivatives and L1 magnitudes from three rows of a replicate-framed copy of
// the image (a, b, c: the rows above, at and below; w + 2 values each). int16 throughout:
// |derivatives| <= 1020, magnitudes <= 2040.
OPENCV_OPS_CLONES void SobelRow(const uint8_t* __restrict a, const uint8_t* __restrict b,
                                const uint8_t* __restrict c, int64_t w,
                                int16_t* __restrict dx, int16_t* __restrict dy,
                                int16_t* __restrict mag) {
  for (int64_t x = 0; x < w; ++x) {
    const int16_t sx = static_cast<int16_t>((a[x + 2] - a[x]) + 2 * (b[x + 2] - b[x]) +
                                            (c[x + 2] - c[x]));  // [-1 0 1; -2 0 2; -1 0 1]
    const int16_t sy = static_cast<int16_t>((c[x] + 2 * c[x + 1] + c[x + 2]) -
                                            (a[x] + 2 * a[x + 1] + a[x + 2]));  // transposed
    dx[x] = sx;
    dy[x] = sy;
    mag[x] = static_cast<int16_t>((sx < 0 ? -sx : sx) + (sy < 0 ? -sy : sy));
  }
}

// One row of the non-maximum suppression: 1 no edge, 0 a candidate, 2 a strong edge. mu, mc, md:
// the magnitudes above, at and below, with one (zero) frame value left and right.
//
// OpenCV's sectors compare |dy| 2^15 with |dx| tan22 and |dx| (tan22 + 2^16), tan22 =
// round(tan(22.5 deg) 2^15) = 13573, in int32. In int16 lanes (twice as many): with q =
// floor(|dx| 13573 / 2^15) (the high half of |dx| x 27146), |dy| 2^15 < |dx| 13573 iff |dx| > 0
// and |dy| <= q (|dx| 13573 is a multiple of 2^15 only at 0: 13573 is odd), and
// |dy| 2^15 > |dx| (13573 + 2^16) iff |dy| > 2 |dx| + q.
OPENCV_OPS_CLONES void SuppressRow(const int16_t* __restrict mu, const int16_t* __restrict mc,
                                   const int16_t* __restrict md, const int16_t* __restrict dx,
                                   const int16_t* __restrict dy, int64_t w, int16_t low,
                                   int16_t high, uint8_t* __restrict out) {
  for (int64_t x = 0; x < w; ++x) {
    // Every neighbour loaded unconditionally: a load under a select could trap, and GCC would
    // not vectorise the loop.
    const int16_t m = mc[x];
    const int16_t left = mc[x - 1], right = mc[x + 1];
    const int16_t up_left = mu[x - 1], up = mu[x], up_right = mu[x + 1];
    const int16_t down_left = md[x - 1], down = md[x], down_right = md[x + 1];
    const int16_t sx = dx[x], sy = dy[x];
    const int16_t ax = static_cast<int16_t>(sx < 0 ? -sx : sx);
    const int16_t ay = static_cast<int16_t>(sy < 0 ? -sy : sy);
    const int16_t q = static_cast<int16_t>((static_cast<int32_t>(ax) * 27146) >> 16);
    const int16_t near_horizontal = (ax > 0) & (ay <= q);
    const int16_t near_vertical = ay > static_cast<int16_t>(2 * ax + q);
    // Gradient within 22.5 deg of horizontal: the left / right neighbours; of vertical: the
    // ones above / below; else the diagonal the gradient points along.
    const int16_t horizontal = (m > left) & (m >= right);
    const int16_t vertical = (m > up) & (m >= down);
    const int16_t same_sign = (sx ^ sy) >= 0;
    const int16_t before = same_sign ? up_left : up_right;
    const int16_t after = same_sign ? down_right : down_left;
    const int16_t diagonal = (m > before) & (m > after);
    const int16_t along = near_horizontal ? horizontal : (near_vertical ? vertical : diagonal);
    const int16_t peak = (m > low) & along;
    out[x] = static_cast<uint8_t>(peak ? (m > high ? 2 : 0) : 1);
  }
}

}  // namespace

void Canny3x3L1(const uint8_t* src, int64_t height, int64_t width, double low_threshold,
                double high_threshold, uint8_t* dst) {
  CHECK_GT(height, 0);
  CHECK_GT(width, 0);
  if (low_threshold > high_threshold) std::swap(low_threshold, high_threshold);
  // Magnitudes are 0..2040: thresholds clamped to int16 compare the same.
  auto clamp16 = [](double t) {
    return static_cast<int16_t>(std::clamp(std::floor(t), -32768.0, 32767.0));
  };
  const int16_t low = clamp16(low_threshold), high = clamp16(high_threshold);
  const int64_t fw = width + 2;
  // The image on a replicated frame (the derivatives' border).
  std::unique_ptr<uint8_t[]> framed(new uint8_t[static_cast<size_t>((height + 2) * fw)]);
  for (int64_t y = -1; y <= height; ++y) {
    const uint8_t* s = src + std::clamp<int64_t>(y, 0, height - 1) * width;
    uint8_t* row = framed.get() + (y + 1) * fw;
    std::memcpy(row + 1, s, static_cast<size_t>(width));
    row[0] = s[0];
    row[width + 1] = s[width - 1];
  }
  // Magnitudes on a frame of zeros (OpenCV's magnitude rows and columns outside the image).
  // Uninitialised buffers whose frames are set here and interiors by the row kernels.
  const size_t framed_size = static_cast<size_t>((height + 2) * fw);
  std::unique_ptr<int16_t[]> mag_buffer(new int16_t[framed_size]);
  std::unique_ptr<uint8_t[]> map_buffer(new uint8_t[framed_size]);
  int16_t* const mag = mag_buffer.get();
  uint8_t* const map = map_buffer.get();
  std::fill(mag, mag + fw, 0);
  std::fill(mag + (height + 1) * fw, mag + (height + 2) * fw, 0);
  std::fill(map, map + fw, 1);
  std::fill(map + (height + 1) * fw, map + (height + 2) * fw, 1);
  for (int64_t y = 1; y <= height; ++y) {
    mag[y * fw] = mag[y * fw + width + 1] = 0;
    map[y * fw] = map[y * fw + width + 1] = 1;
  }
  std::unique_ptr<int16_t[]> gx(new int16_t[static_cast<size_t>(height * width)]);
  std::unique_ptr<int16_t[]> gy(new int16_t[static_cast<size_t>(height * width)]);
  for (int64_t y = 0; y < height; ++y) {
    const uint8_t* b = framed.get() + (y + 1) * fw;
    SobelRow(b - fw, b, b + fw, width, gx.get() + y * width, gy.get() + y * width,
             mag + (y + 1) * fw + 1);
  }
  // The map: 1 on the frame; strong pixels seed the flood fill through candidates. Each pixel
  // enters the stack at most once (strong, or a candidate turned edge): n slots.
  CHECK_LT((height + 2) * fw, int64_t{1} << 31);
  std::unique_ptr<int32_t[]> stack(new int32_t[static_cast<size_t>(height * width)]);
  int64_t top = 0;
  for (int64_t y = 0; y < height; ++y) {
    const int16_t* mc = mag + (y + 1) * fw + 1;
    uint8_t* row = map + (y + 1) * fw + 1;
    SuppressRow(mc - fw, mc, mc + fw, gx.get() + y * width, gy.get() + y * width, width, low,
                high, row);
    // Eight map values at a time, skipping words without a 2 (most), then branch-free.
    const int32_t base = static_cast<int32_t>((y + 1) * fw + 1);
    int64_t x = 0;
    for (; x + 8 <= width; x += 8) {
      uint64_t word;
      std::memcpy(&word, row + x, sizeof(word));
      const uint64_t t = word ^ 0x0202020202020202ull;  // a zero byte where the value is 2
      if (((t - 0x0101010101010101ull) & ~t & 0x8080808080808080ull) == 0) continue;
      for (int64_t k = x; k < x + 8; ++k) {
        stack[top] = base + static_cast<int32_t>(k);
        top += row[k] == 2;
      }
    }
    for (; x < width; ++x) {
      stack[top] = base + static_cast<int32_t>(x);
      top += row[x] == 2;
    }
  }
  uint8_t* p = map;
  const int32_t f = static_cast<int32_t>(fw);
  const int32_t offsets[8] = {-f - 1, -f, -f + 1, -1, 1, f - 1, f, f + 1};
  while (top > 0) {
    const int32_t i = stack[--top];
    for (int32_t o : offsets) {
      if (p[i + o] == 0) {
        p[i + o] = 2;
        stack[top++] = i + o;
      }
    }
  }
  for (int64_t y = 0; y < height; ++y) {
    const uint8_t* row = p + (y + 1) * fw + 1;
    uint8_t* d = dst + y * width;
    for (int64_t x = 0; x < width; ++x) d[x] = row[x] == 2 ? 255 : 0;
  }
}

namespace {

// The chamfer scans' vectorisable half: each value's best over the five neighbours of the
// previous row (r1) and the two knight's moves of the row before (r2), final already; 0 on the
// source's zero pixels (forward: src given) or the smaller with the forward value (backward:
// keep given).
OPENCV_OPS_CLONES void ChamferRowBest(const uint32_t* __restrict r2,
                                      const uint32_t* __restrict r1,
                                      const uint8_t* __restrict src,
                                      const uint32_t* __restrict keep, int64_t w,
                                      uint32_t* __restrict best) {
  for (int64_t x = 0; x < w; ++x) {
    uint32_t m = std::min(r2[x - 1], r2[x + 1]) + kKnight;
    m = std::min(m, std::min(r1[x - 2], r1[x + 2]) + kKnight);
    m = std::min(m, std::min(r1[x - 1], r1[x + 1]) + kDiagonal);
    best[x] = std::min(m, r1[x] + kStraight);
  }
  if (src != nullptr) {
    for (int64_t x = 0; x < w; ++x) best[x] = src[x] == 0 ? 0 : best[x];
  }
  if (keep != nullptr) {
    for (int64_t x = 0; x < w; ++x) best[x] = std::min(best[x], keep[x]);
  }
}

// min(in[i], cap).
OPENCV_OPS_CLONES void CapRow(const uint32_t* __restrict in, int64_t n, uint32_t cap,
                              uint32_t* __restrict out) {
  for (int64_t i = 0; i < n; ++i) out[i] = in[i] < cap ? in[i] : cap;
}

}  // namespace

void ChamferDistance5x5Fixed(const uint8_t* src, int64_t height, int64_t width,
                             uint32_t* dst) {
  CHECK_GT(height, 0);
  CHECK_GT(width, 0);
  // Two frame rows and columns of kUnreached on every side (paths never leave the image).
  const int64_t fw = width + 4;
  // Only the frame is set here; the forward scan writes every interior value.
  std::unique_ptr<uint32_t[]> t(new uint32_t[static_cast<size_t>((height + 4) * fw)]);
  std::vector<uint32_t> best(static_cast<size_t>(width));
  auto row = [&](int64_t y) { return t.get() + (y + 2) * fw + 2; };
  std::fill(row(-2) - 2, row(0) - 2, kUnreached);
  std::fill(row(height) - 2, row(height + 2) - 2, kUnreached);
  for (int64_t y = 0; y < height; ++y) {
    row(y)[-2] = row(y)[-1] = row(y)[width] = row(y)[width + 1] = kUnreached;
  }
  // Forward: the five neighbours of the row above and two of the row above that, final
  // already, then the left neighbour, serially.
  for (int64_t y = 0; y < height; ++y) {
    ChamferRowBest(row(y - 2), row(y - 1), src + y * width, nullptr, width, best.data());
    MinPlusScan(best.data(), width, 1, row(y));
  }
  // Backward: the mirror image, keeping the forward value where it is smaller.
  for (int64_t y = height - 1; y >= 0; --y) {
    uint32_t* cur = row(y);
    ChamferRowBest(row(y + 2), row(y + 1), nullptr, cur, width, best.data());
    MinPlusScan(best.data() + width - 1, width, -1, cur + width - 1);
    CapRow(cur, width, kUnreached, dst + y * width);  // each final row, bottom up
  }
}

namespace {

// 3 x 3 sums over the framed plane: row sums of three in Sum, then each output finish(sum of
// three row sums). Inlined into the cloned wrappers below (the same operations in each).
template <typename T, typename Sum, typename Out, typename Finish>
__attribute__((always_inline)) inline void BoxBlur3x3Rows(const T* __restrict f, int64_t height,
                                                          int64_t width, Sum* __restrict sums,
                                                          Out* __restrict dst, Finish finish) {
  const int64_t fw = width + 2;
  for (int64_t y = 0; y < height + 2; ++y) {
    const T* r = f + y * fw;
    Sum* s = sums + y * width;
    for (int64_t x = 0; x < width; ++x) {
      s[x] = static_cast<Sum>(static_cast<Sum>(r[x]) + static_cast<Sum>(r[x + 1]) +
                              static_cast<Sum>(r[x + 2]));
    }
  }
  for (int64_t y = 0; y < height; ++y) {
    const Sum* a = sums + y * width;
    const Sum* b = a + width;
    const Sum* c = b + width;
    Out* d = dst + y * width;
    for (int64_t x = 0; x < width; ++x) d[x] = finish(a[x] + b[x] + c[x]);
  }
}

OPENCV_OPS_CLONES void BoxBlurRows(const uint8_t* f, int64_t height, int64_t width,
                                   uint16_t* sums, uint8_t* dst) {
  // sum / 9 rounded to nearest (never a tie); sum <= 2295.
  BoxBlur3x3Rows(f, height, width, sums, dst, [](uint16_t sum) {
    return static_cast<uint8_t>((static_cast<uint32_t>(sum) * 2 + 9) / 18);
  });
}

}  // namespace

void BoxBlur3x3(const uint8_t* src, int64_t height, int64_t width, uint8_t* dst) {
  const std::vector<uint8_t> f = Framed(src, height, width);
  std::unique_ptr<uint16_t[]> sums(new uint16_t[static_cast<size_t>((height + 2) * width)]);
  BoxBlurRows(f.data(), height, width, sums.get(), dst);
}

namespace {

OPENCV_OPS_CLONES void DistanceLevelRows(const uint32_t* f, int64_t height, int64_t width,
                                         uint32_t* sums, uint8_t* dst) {
  BoxBlur3x3Rows(f, height, width, sums, dst, [](uint32_t sum) {
    return static_cast<uint8_t>(sum / (9u * 65536u));
  });
}

}  // namespace

void CappedBlurredDistanceLevels(const uint32_t* fixed, int64_t height, int64_t width, int cap,
                                 uint8_t* dst) {
  CHECK_GE(cap, 0);
  CHECK_LE(cap, 28);
  const int64_t n = height * width;
  std::unique_ptr<uint32_t[]> capped(new uint32_t[static_cast<size_t>(n)]);
  CapRow(fixed, n, static_cast<uint32_t>(cap) << 16, capped.get());
  const std::vector<uint32_t> f = Framed(capped.get(), height, width);
  std::unique_ptr<uint32_t[]> sums(new uint32_t[static_cast<size_t>((height + 2) * width)]);
  DistanceLevelRows(f.data(), height, width, sums.get(), dst);
}

void EqualizeHistogram(const uint8_t* src, int64_t n, uint8_t* dst) {
  CHECK_GT(n, 0);
  // Four partial histograms: runs of one level (common: distance maps have ~20) would
  // otherwise serialise every increment on the one counter.
  int64_t partial[4][256] = {};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t word;
    std::memcpy(&word, src + i, sizeof(word));
    ++partial[0][word & 0xFF];
    ++partial[1][(word >> 8) & 0xFF];
    ++partial[2][(word >> 16) & 0xFF];
    ++partial[3][(word >> 24) & 0xFF];
    ++partial[0][(word >> 32) & 0xFF];
    ++partial[1][(word >> 40) & 0xFF];
    ++partial[2][(word >> 48) & 0xFF];
    ++partial[3][word >> 56];
  }
  for (; i < n; ++i) ++partial[0][src[i]];
  int64_t hist[256];
  for (int level = 0; level < 256; ++level) {
    hist[level] = partial[0][level] + partial[1][level] + partial[2][level] + partial[3][level];
  }
  int first = 0;
  while (hist[first] == 0) ++first;
  uint8_t lut[256] = {};
  if (hist[first] == n) {
    std::fill(lut, lut + 256, static_cast<uint8_t>(first));
  } else {
    const float scale = 255.0f / static_cast<float>(n - hist[first]);
    int64_t sum = 0;
    for (int level = first + 1; level < 256; ++level) {
      sum += hist[level];
      const float v = std::nearbyint(static_cast<float>(sum) * scale);
      lut[level] = static_cast<uint8_t>(std::clamp(v, 0.0f, 255.0f));
    }
  }
  LookUpBytes(lut, src, n, dst);
}

// Eight values a word: one load and one store per eight lookups (the table through its own
// pointer: byte stores could alias a pointer kept in memory).
void LookUpBytes(const uint8_t table[256], const uint8_t* src, int64_t n, uint8_t* dst) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t word;
    std::memcpy(&word, src + i, sizeof(word));
    uint64_t mapped = 0;
    for (int b = 0; b < 8; ++b) {
      mapped |= static_cast<uint64_t>(table[(word >> (8 * b)) & 0xFF]) << (8 * b);
    }
    std::memcpy(dst + i, &mapped, sizeof(mapped));
  }
  for (; i < n; ++i) dst[i] = table[src[i]];
}

void Correlate3x3(const uint8_t* src, int64_t height, int64_t width, const int kernel[9],
                  uint8_t* dst) {
  const std::vector<uint8_t> f = Framed(src, height, width);
  const int64_t fw = width + 2;
  int32_t k[9];
  int32_t positive = 0, negative = 0;
  for (int t = 0; t < 9; ++t) {
    k[t] = kernel[t];
    (k[t] > 0 ? positive : negative) += k[t];
  }
  // int16 sums (twice the lanes of int32) when no sum can leave its range.
  const bool narrow = positive * 255 <= 32767 && negative * 255 >= -32768;
  std::vector<int32_t> acc(static_cast<size_t>(width));
  for (int64_t y = 0; y < height; ++y) {
    const uint8_t* a = f.data() + y * fw;
    const uint8_t* b = a + fw;
    const uint8_t* c = b + fw;
    uint8_t* d = dst + y * width;
    if (narrow) {
      for (int64_t x = 0; x < width; ++x) {
        const int16_t sum = static_cast<int16_t>(
            k[0] * a[x] + k[1] * a[x + 1] + k[2] * a[x + 2] + k[3] * b[x] + k[4] * b[x + 1] +
            k[5] * b[x + 2] + k[6] * c[x] + k[7] * c[x + 1] + k[8] * c[x + 2]);
        d[x] = static_cast<uint8_t>(std::clamp<int16_t>(sum, 0, 255));
      }
      continue;
    }
    std::fill(acc.begin(), acc.end(), 0);
    for (int row = 0; row < 3; ++row) {
      const uint8_t* r = a + row * fw;
      for (int col = 0; col < 3; ++col) {
        const int32_t kk = k[3 * row + col];
        if (kk == 0) continue;
        for (int64_t x = 0; x < width; ++x) acc[x] += kk * r[x + col];
      }
    }
    for (int64_t x = 0; x < width; ++x) d[x] = static_cast<uint8_t>(std::clamp(acc[x], 0, 255));
  }
}

}  // namespace robustness::corruptions_internal
