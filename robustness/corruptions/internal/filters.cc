#include "robustness/corruptions/internal/filters.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>

#include <immintrin.h>
#include <opencv2/core/utility.hpp>

#include "absl/status/status.h"
#include "glog/logging.h"

namespace robustness::corruptions_internal {
namespace {

std::once_flag g_serial_opencv;

std::vector<double> GaussianWeights(double sigma, double truncate) {
  const int radius = static_cast<int>(truncate * sigma + 0.5);
  std::vector<double> w(2 * radius + 1);
  double sum = 0.0;
  for (int k = -radius; k <= radius; ++k) {
    w[k + radius] = std::exp(-0.5 / (sigma * sigma) * k * k);
    sum += w[k + radius];
  }
  for (double& x : w) x /= sum;
  return w;
}

int64_t BorderIndex(int64_t i, int64_t n, Border border) {
  return border == Border::kNearest ? Clamp(i, n) : ReflectHalf(i, n);
}

}  // namespace

void UseSerialOpenCv() {
  std::call_once(g_serial_opencv, [] { cv::setNumThreads(0); });
}

namespace {
typedef double V4 __attribute__((vector_size(32)));
__attribute__((always_inline)) inline V4 Load4(const double* p) {
  V4 v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
typedef float F8 __attribute__((vector_size(32)));
__attribute__((always_inline)) inline F8 Load8(const float* p) {
  F8 v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
typedef double D8 __attribute__((vector_size(64)));
__attribute__((always_inline)) inline D8 Load8(const double* p) {
  D8 v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
typedef float F16 __attribute__((vector_size(64)));
__attribute__((always_inline)) inline F16 Load16(const float* p) {
  F16 v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
}  // namespace

// GCC vector types: 32 outputs in four 8-lane accumulators across all taps (one zmm each under
// AVX-512, two ymm under AVX2, four xmm halves otherwise), then 8 and then single outputs for the
// tail. Independent accumulators keep the adder busy (an add's latency is 4 cycles; two chains
// left it idle three quarters of the time). An explicit form, since the auto-vectoriser gathered
// across taps. Every output's terms are added in tap order whichever block computes it.
__attribute__((target_clones("avx512f", "avx2", "default"))) void SumOfShiftedRows(
    const double* const* rows, const double* weights, int taps, double* out, int64_t n) {
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    D8 a[4] = {};
    for (int t = 0; t < taps; ++t) {
      const double* s = rows[t] + i;
      const D8 w = weights[t] - D8{};
      for (int k = 0; k < 4; ++k) a[k] += w * Load8(s + 8 * k);
    }
    std::memcpy(out + i, a, sizeof(a));
  }
  for (; i + 8 <= n; i += 8) {
    V4 a = {0, 0, 0, 0}, b = {0, 0, 0, 0};
    for (int t = 0; t < taps; ++t) {
      const double* s = rows[t] + i;
      const V4 w = {weights[t], weights[t], weights[t], weights[t]};
      a += w * Load4(s);
      b += w * Load4(s + 4);
    }
    std::memcpy(out + i, &a, sizeof(a));
    std::memcpy(out + i + 4, &b, sizeof(b));
  }
  for (; i < n; ++i) {
    double acc = 0;
    for (int t = 0; t < taps; ++t) acc += weights[t] * rows[t][i];
    out[i] = acc;
  }
}

// The float32 twin: 64 outputs in four 16-lane accumulators (one zmm each under AVX-512, two ymm
// under AVX2, four xmm otherwise), then 16 and single outputs. The register width changes
// nothing in the order of any output's operations; with -ffp-contract=off (BUILD) every clone
// computes the same bits.
__attribute__((target_clones("avx512f", "avx2", "default"))) void SumOfShiftedRows(
    const float* const* rows, const float* weights, int taps, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    F16 a[4] = {};
    for (int t = 0; t < taps; ++t) {
      const float* s = rows[t] + i;
      const F16 w = weights[t] - F16{};
      for (int k = 0; k < 4; ++k) a[k] += w * Load16(s + 16 * k);
    }
    std::memcpy(out + i, a, sizeof(a));
  }
  for (; i + 16 <= n; i += 16) {
    F8 a = {}, b = {};
    for (int t = 0; t < taps; ++t) {
      const float* s = rows[t] + i;
      const float wt = weights[t];
      const F8 w = {wt, wt, wt, wt, wt, wt, wt, wt};
      a += w * Load8(s);
      b += w * Load8(s + 8);
    }
    std::memcpy(out + i, &a, sizeof(a));
    std::memcpy(out + i + 8, &b, sizeof(b));
  }
  for (; i < n; ++i) {
    float acc = 0;
    for (int t = 0; t < taps; ++t) acc += weights[t] * rows[t][i];
    out[i] = acc;
  }
}

// SciPy's symmetric form: centre first, then the pairs from the outermost in.
__attribute__((target_clones("avx512f", "avx2", "default"))) void SymmetricSumOfShiftedRows(
    const float* const* rows, const float* weights, int radius, float* out, int64_t n) {
  const float* centre = rows[radius];
  const float wc = weights[radius];
  const int last = 2 * radius;
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    F16 a[4];
    const F16 c = wc - F16{};
    for (int k = 0; k < 4; ++k) a[k] = Load16(centre + i + 16 * k) * c;
    for (int j = 0; j < radius; ++j) {
      const float* lo = rows[j] + i;
      const float* hi = rows[last - j] + i;
      const F16 w = weights[j] - F16{};
      for (int k = 0; k < 4; ++k) a[k] += (Load16(lo + 16 * k) + Load16(hi + 16 * k)) * w;
    }
    std::memcpy(out + i, a, sizeof(a));
  }
  for (; i + 32 <= n; i += 32) {  // two chains, for rows of 32 (and the rest of 224)
    const F16 c = wc - F16{};
    F16 a0 = Load16(centre + i) * c, a1 = Load16(centre + i + 16) * c;
    for (int j = 0; j < radius; ++j) {
      const float* lo = rows[j] + i;
      const float* hi = rows[last - j] + i;
      const F16 w = weights[j] - F16{};
      a0 += (Load16(lo) + Load16(hi)) * w;
      a1 += (Load16(lo + 16) + Load16(hi + 16)) * w;
    }
    std::memcpy(out + i, &a0, sizeof(a0));
    std::memcpy(out + i + 16, &a1, sizeof(a1));
  }
  for (; i + 8 <= n; i += 8) {
    F8 a = Load8(centre + i) * (wc - F8{});
    for (int j = 0; j < radius; ++j) {
      a += (Load8(rows[j] + i) + Load8(rows[last - j] + i)) * (weights[j] - F8{});
    }
    std::memcpy(out + i, &a, sizeof(a));
  }
  for (; i < n; ++i) {
    float acc = centre[i] * wc;
    for (int j = 0; j < radius; ++j) acc += (rows[j][i] + rows[last - j][i]) * weights[j];
    out[i] = acc;
  }
}

namespace {

// The Gaussian's taps: in float32 SciPy's symmetric order; in float64 tap order (kept as it was:
// the float64 filter serves the tests' comparisons).
void GaussianTaps(const double* const* rows, const double* weights, int taps, double* out,
                  int64_t n) {
  SumOfShiftedRows(rows, weights, taps, out, n);
}
void GaussianTaps(const float* const* rows, const float* weights, int taps, float* out,
                  int64_t n) {
  SymmetricSumOfShiftedRows(rows, weights, taps / 2, out, n);
}

// Both passes are sums of shifted rows, so they vectorise along the contiguous axis. In the
// vertical pass the rows whose taps all lie inside the image are one long shifted row (row y + 1's
// taps are row y's moved by one width), so they take a single call. T is double or float (the
// weights are computed in float64 and rounded once).
template <typename T>
void GaussianFilterT(const T* in, int64_t height, int64_t width, double sigma_y, double sigma_x,
                     double truncate, Border border, T* out) {
  // Scratch kept per thread (a thread-local lookup in a shared library is a call: once here).
  struct Scratch {
    std::vector<T> vertical, padded;
    std::vector<const T*> rows;
  };
  thread_local Scratch scratch;
  Scratch& tls = scratch;
  std::vector<T>& vertical = tls.vertical;
  std::vector<T>& padded = tls.padded;
  std::vector<const T*>& rows = tls.rows;
  auto weights = [&](double sigma) {
    const std::vector<double> w = GaussianWeights(sigma, truncate);
    return std::vector<T>(w.begin(), w.end());
  };
  const int64_t n = height * width;
  // The vertical pass reads `in` and writes `vertical` (or `out` when there is no horizontal
  // pass); the horizontal pass reads a padded copy of each line and writes `out`, so `in` may
  // be `out`.
  const T* source = in;
  if (sigma_y > 0) {
    const std::vector<T> w = weights(sigma_y);
    const int64_t r = static_cast<int64_t>(w.size() / 2);
    const int taps = static_cast<int>(w.size());
    T* result = out;
    if (sigma_x > 0 || in == out) {
      vertical.resize(static_cast<size_t>(n));
      result = vertical.data();
    }
    rows.resize(w.size());
    const int64_t interior_begin = std::min(r, height);
    const int64_t interior_end = std::max(height - r, interior_begin);
    for (int64_t y = 0; y < height; ++y) {
      if (y == interior_begin && interior_end > interior_begin) {
        for (int64_t k = 0; k < taps; ++k) rows[k] = in + (y + k - r) * width;
        GaussianTaps(rows.data(), w.data(), taps, result + y * width,
                     (interior_end - interior_begin) * width);
        y = interior_end - 1;
        continue;
      }
      for (int64_t k = 0; k < taps; ++k) {
        rows[k] = in + BorderIndex(y + k - r, height, border) * width;
      }
      GaussianTaps(rows.data(), w.data(), taps, result + y * width, width);
    }
    source = result;
  }
  if (sigma_x > 0) {
    const std::vector<T> w = weights(sigma_x);
    const int64_t r = static_cast<int64_t>(w.size() / 2);
    padded.resize(static_cast<size_t>(width + 2 * r));
    rows.resize(w.size());
    for (size_t k = 0; k < w.size(); ++k) rows[k] = padded.data() + k;
    std::vector<int64_t> left(static_cast<size_t>(r)), right(static_cast<size_t>(r));
    for (int64_t i = 0; i < r; ++i) {
      left[i] = BorderIndex(i - r, width, border);
      right[i] = BorderIndex(width + i, width, border);
    }
    for (int64_t y = 0; y < height; ++y) {
      const T* line = source + y * width;
      for (int64_t i = 0; i < r; ++i) {
        padded[i] = line[left[i]];
        padded[r + width + i] = line[right[i]];
      }
      std::copy_n(line, width, padded.data() + r);
      GaussianTaps(rows.data(), w.data(), static_cast<int>(w.size()), out + y * width, width);
    }
    source = out;
  }
  if (source != out) std::copy_n(source, n, out);
}

}  // namespace

void GaussianFilter(const double* in, int64_t height, int64_t width, double sigma_y,
                    double sigma_x, double truncate, Border border, double* out) {
  GaussianFilterT(in, height, width, sigma_y, sigma_x, truncate, border, out);
}

void GaussianFilter(const float* in, int64_t height, int64_t width, double sigma_y,
                    double sigma_x, double truncate, Border border, float* out) {
  GaussianFilterT(in, height, width, sigma_y, sigma_x, truncate, border, out);
}

void GaussianFilterPlanes(Planes* x, double sigma, Border border) {
  for (int64_t c = 0; c < x->channels; ++c) {
    GaussianFilter(x->plane(c), x->height, x->width, sigma, sigma, 4.0, border, x->plane(c));
  }
}

void GaussianFilterPlanes(PlanesF* x, double sigma, Border border) {
  for (int64_t c = 0; c < x->channels; ++c) {
    GaussianFilter(x->plane(c), x->height, x->width, sigma, sigma, 4.0, border, x->plane(c));
  }
}

PlanesF MotionBlur(const PlanesF& x, int radius, double sigma, double angle_degrees) {
  const int width = 2 * radius + 1;
  std::vector<double> kernel(width);
  double sum = 0.0;
  for (int i = 0; i < width; ++i) {
    kernel[i] = std::exp(-(static_cast<double>(i) * i) / (2 * sigma * sigma)) /
                (std::sqrt(2 * M_PI) * sigma);
    sum += kernel[i];
  }
  for (double& k : kernel) k /= sum;
  const double radians = angle_degrees * M_PI / 180.0;
  const double p0 = width * std::sin(radians), p1 = width * std::cos(radians);
  const double hypot = std::hypot(p0, p1);
  // The reference shifts the image by (-dy, -dx) with these dy, dx, replicating the edge: tap i
  // reads x[clamp(r - dy_i)][clamp(c - dx_i)].
  std::vector<int64_t> dys, dxs;
  std::vector<float> weights;
  int64_t pad = 0;
  for (int i = 0; i < width; ++i) {
    const int64_t dy = -static_cast<int64_t>(std::ceil(i * p0 / hypot - 0.5));
    const int64_t dx = -static_cast<int64_t>(std::ceil(i * p1 / hypot - 0.5));
    if (std::abs(dy) >= x.height || std::abs(dx) >= x.width) break;  // no renormalising
    dys.push_back(dy);
    dxs.push_back(dx);
    weights.push_back(static_cast<float>(kernel[i]));
    pad = std::max<int64_t>(pad, std::abs(dx));
  }
  const int64_t h = x.height, w = x.width, pw = w + 2 * pad;
  const int taps = static_cast<int>(weights.size());
  PlanesF out(x.channels, h, w, 0.0f);
  if (taps == 0) return out;
  // Each row padded by `pad` replicated values on both sides, so that every tap of an output
  // row is one contiguous shifted row, summed in tap order (as the reference adds its shifted
  // images) by the vectorised kernel.
  std::vector<float> padded(static_cast<size_t>(h * pw));
  std::vector<const float*> rows(static_cast<size_t>(taps));
  for (int64_t ch = 0; ch < x.channels; ++ch) {
    const float* src = x.plane(ch);
    for (int64_t r = 0; r < h; ++r) {
      float* dst = padded.data() + r * pw;
      std::fill_n(dst, pad, src[r * w]);
      std::copy_n(src + r * w, w, dst + pad);
      std::fill_n(dst + pad + w, pad, src[r * w + w - 1]);
    }
    for (int64_t r = 0; r < h; ++r) {
      for (int t = 0; t < taps; ++t) {
        rows[t] = padded.data() + Clamp(r - dys[t], h) * pw + pad - dxs[t];
      }
      SumOfShiftedRows(rows.data(), weights.data(), taps, out.plane(ch) + r * w, w);
    }
  }
  return out;
}

namespace {

// SciPy zoom, order 1, grid_mode False, along one axis: for each output index the two input
// taps and the weight of the second.
struct LinearTaps {
  std::vector<int64_t> i0, i1;
  std::vector<double> f;
};

LinearTaps ZoomTaps(int64_t in, int64_t out, int64_t keep) {
  LinearTaps t;
  const double scale = out > 1 ? static_cast<double>(in - 1) / static_cast<double>(out - 1) : 1.0;
  for (int64_t j = 0; j < keep; ++j) {
    const double p = j * scale;
    int64_t a = static_cast<int64_t>(std::floor(p));
    double f = p - a;
    if (a >= in - 1) {
      a = in - 1;
      f = 0.0;
    }
    t.i0.push_back(a);
    t.i1.push_back(std::min(a + 1, in - 1));
    t.f.push_back(f);
  }
  return t;
}

}  // namespace

Planes ClippedZoom(const Planes& x, double zoom, int64_t max_height, int64_t max_width,
                   bool float32) {
  const int64_t ch0 = static_cast<int64_t>(std::ceil(x.height / zoom));
  const int64_t ch1 = static_cast<int64_t>(std::ceil(x.width / zoom));
  const int64_t top0 = (x.height - ch0) / 2, top1 = (x.width - ch1) / 2;
  // Python's round(): half to even.
  const int64_t out0 = static_cast<int64_t>(std::nearbyint(ch0 * zoom));
  const int64_t out1 = static_cast<int64_t>(std::nearbyint(ch1 * zoom));
  const int64_t keep0 = std::min(out0, max_height), keep1 = std::min(out1, max_width);
  const LinearTaps ty = ZoomTaps(ch0, out0, keep0), tx = ZoomTaps(ch1, out1, keep1);
  Planes out(x.channels, keep0, keep1);
  for (int64_t c = 0; c < x.channels; ++c) {
    for (int64_t i = 0; i < keep0; ++i) {
      const double* r0 = x.plane(c) + (top0 + ty.i0[i]) * x.width + top1;
      const double* r1 = x.plane(c) + (top0 + ty.i1[i]) * x.width + top1;
      const double fy = ty.f[i];
      double* o = out.plane(c) + i * keep1;
      for (int64_t j = 0; j < keep1; ++j) {
        const double fx = tx.f[j];
        const int64_t a = tx.i0[j], b = tx.i1[j];
        const double v = (1 - fy) * ((1 - fx) * r0[a] + fx * r0[b]) +
                         fy * ((1 - fx) * r1[a] + fx * r1[b]);
        o[j] = float32 ? static_cast<double>(static_cast<float>(v)) : v;
      }
    }
  }
  return out;
}

namespace {

// The minimum / maximum of n > 0 floats (no NaN), in four 4-lane accumulators: min and max do
// not depend on the order (std::min_element's serial chain was half of the plasma's time).
typedef float F4 __attribute__((vector_size(16)));
template <bool kMax>
float Extreme(const float* x, int64_t n) {
  F4 a[4];
  for (auto& v : a) v = x[0] - F4{};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    for (int k = 0; k < 4; ++k) {
      F4 v;
      std::memcpy(&v, x + i + 4 * k, sizeof(v));
      a[k] = (kMax ? a[k] < v : v < a[k]) ? v : a[k];
    }
  }
  float m = x[0];
  for (const F4& v : a) {
    for (int k = 0; k < 4; ++k) m = kMax ? std::max(m, v[k]) : std::min(m, v[k]);
  }
  for (; i < n; ++i) m = kMax ? std::max(m, x[i]) : std::min(m, x[i]);
  return m;
}
float MinOf(const float* x, int64_t n) { return Extreme<false>(x, n); }
float MaxOf(const float* x, int64_t n) { return Extreme<true>(x, n); }

}  // namespace

namespace {

// out[j] = float((a[j] + b[j]) + (c[j] + d[j])) / 4 + wibble (-wibble + 2 wibble u[j])) for
// j < n: one level's new cells from their four neighbours (float32 sums, the noise in float64, as
// the reference computes them). Contiguous operands, so each clone vectorises it.
__attribute__((target_clones("avx512f", "avx2", "default"))) void NoisySums(
    const float* __restrict a, const float* __restrict b, const float* __restrict c,
    const float* __restrict d, const double* __restrict u, double wibble, int64_t n,
    float* __restrict out) {
  for (int64_t j = 0; j < n; ++j) {
    const float sum = (a[j] + b[j]) + (c[j] + d[j]);
    out[j] = static_cast<float>(sum / 4.0f + wibble * (-wibble + (wibble - -wibble) * u[j]));
  }
}

}  // namespace

// Each level reads only the cells of the coarser levels: its corners (the grid of step `step`)
// and, for the diamonds, the square centres it has just made. Both are copied into contiguous
// grids with their toroidal neighbours appended (corner row i: n + 1 values, the last = the
// first; centre row i: n + 2, one before and one after), the new cells computed a row at a time
// by NoisySums and written back. The same sums in the same order as the per-cell loops (the
// reference builds each set whole before writing it; nothing here reads a cell of its own set).
std::vector<float> PlasmaFractal(int64_t map_size, double wibble_decay, Random* random) {
  const int64_t p = map_size;
  CHECK(p >= 1 && (p & (p - 1)) == 0) << "map size must be a power of two: " << p;
  std::vector<float> m(static_cast<size_t>(p * p), 0.0f);
  double wibble = 100;
  // Every uniform first (3 n^2 per level n = 1, 2, 4, .. P / 2: P^2 - 1 in all), from four
  // lanes (Random::FillUniformLanes), consumed in the reference's draw order: squares, then the
  // diamonds on the corners' rows, then those on their columns, each row by row.
  const int64_t draws = p * p - 1;
  std::unique_ptr<double[]> uniforms(new double[static_cast<size_t>(std::max<int64_t>(draws, 1))]);
  random->FillUniformLanes(uniforms.get(), draws);
  const double* u = uniforms.get();
  std::vector<float> corners, centres, out;
  for (int64_t step = p; step >= 2; step /= 2) {
    const int64_t n = p / step, half = step / 2;
    const int64_t kw = n + 1, cw = n + 2;  // grid row widths
    corners.resize(static_cast<size_t>(n * kw));
    centres.resize(static_cast<size_t>(n * cw));
    out.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      float* k = corners.data() + i * kw;
      const float* row = m.data() + i * step * p;
      for (int64_t j = 0; j < n; ++j) k[j] = row[j * step];
      k[n] = k[0];
    }
    const auto corner_row = [&](int64_t i) { return corners.data() + (i == n ? 0 : i) * kw; };
    // centre_row(i)[j] = centre (i, j) for j in [-1, n].
    const auto centre_row = [&](int64_t i) {
      return centres.data() + (i < 0 ? n - 1 : i) * cw + 1;
    };
    // Squares: centre (i, j) from the corners (i, j), (i + 1, j), (i, j + 1), (i + 1, j + 1).
    for (int64_t i = 0; i < n; ++i) {
      const float* k0 = corner_row(i);
      const float* k1 = corner_row(i + 1);
      float* c = centre_row(i);
      NoisySums(k0, k1, k0 + 1, k1 + 1, u, wibble, n, c);
      u += n;
      c[-1] = c[n - 1];
      c[n] = c[0];
      float* row = m.data() + (i * step + half) * p + half;
      for (int64_t j = 0; j < n; ++j) row[j * step] = c[j];
    }
    // Diamonds on the corners' rows: cell (i step, j step + half) from the centres (i, j),
    // (i - 1, j) and the corners (i, j), (i, j + 1).
    for (int64_t i = 0; i < n; ++i) {
      const float* k = corner_row(i);
      NoisySums(centre_row(i), centre_row(i - 1), k, k + 1, u, wibble, n, out.data());
      u += n;
      float* row = m.data() + i * step * p + half;
      for (int64_t j = 0; j < n; ++j) row[j * step] = out[j];
    }
    // Diamonds on the corners' columns: cell (i step + half, j step) from the centres (i, j),
    // (i, j - 1) and the corners (i, j), (i + 1, j).
    for (int64_t i = 0; i < n; ++i) {
      const float* c = centre_row(i);
      NoisySums(c, c - 1, corner_row(i), corner_row(i + 1), u, wibble, n, out.data());
      u += n;
      float* row = m.data() + (i * step + half) * p;
      for (int64_t j = 0; j < n; ++j) row[j * step] = out[j];
    }
    wibble /= wibble_decay;
  }
  CHECK_EQ(u - uniforms.get(), draws);
  const float lo = MinOf(m.data(), static_cast<int64_t>(m.size()));
  for (float& v : m) v -= lo;
  const float hi = MaxOf(m.data(), static_cast<int64_t>(m.size()));
  if (hi > 0) {
    for (float& v : m) v /= hi;
  }
  return m;
}

// Branch-free forms of skimage's conversions (the branches on which channel is the maximum and on
// the hue sector mispredicted on most pixels of a photograph): every candidate is computed as the
// branching form computes it and one is selected, so the bits are the same.
void RgbToHsv(double r, double g, double b, double* h, double* s, double* v) {
  const double mx = std::max({r, g, b}), mn = std::min({r, g, b});
  const double delta = mx - mn;
  *v = mx;
  const bool grey = delta == 0.0;
  const double safe_delta = grey ? 1.0 : delta;
  const double safe_mx = grey ? 1.0 : mx;
  // skimage assigns red, then green, then blue: the last match wins on ties.
  const bool blue = b == mx, green = !blue && g == mx;
  const double numerator = blue ? r - g : (green ? b - r : g - b);
  const double offset = blue ? 4.0 : (green ? 2.0 : 0.0);
  const double quotient = numerator / safe_delta;
  // The red sector adds nothing (x + 0.0 would turn -0.0 into +0.0, which floor keeps).
  double hh = blue || green ? offset + quotient : quotient;
  hh /= 6.0;
  hh -= std::floor(hh);  // Python's % 1.
  *h = grey ? 0.0 : hh;
  *s = grey ? 0.0 : delta / safe_mx;
}

void HsvToRgb(double h, double s, double v, double* r, double* g, double* b) {
  const double hi_f = std::floor(h * 6);
  const double f = h * 6 - hi_f;
  const double p = v * (1 - s), q = v * (1 - f * s), t = v * (1 - (1 - f) * s);
  const int hi = static_cast<int>(static_cast<uint8_t>(static_cast<int64_t>(hi_f))) % 6;
  // Sector hi: (r, g, b) = (v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q).
  const double values[4] = {v, p, q, t};
  static constexpr uint8_t kR[6] = {0, 2, 1, 1, 3, 0};
  static constexpr uint8_t kG[6] = {3, 0, 0, 2, 1, 1};
  static constexpr uint8_t kB[6] = {1, 1, 3, 0, 0, 2};
  *r = values[kR[hi]];
  *g = values[kG[hi]];
  *b = values[kB[hi]];
}

namespace {

// A NEAREST row (xs nondecreasing): where a 16-byte output chunk reads within 16 source bytes from
// xs[16 k] (always when enlarging), one byte shuffle with a mask made once per image (SSSE3
// pshufb, chosen at run time; without SSSE3 a plain loop). The source rows carry 16 bytes of
// slack, so every window can be loaded. Other chunks, and the tail, go a byte at a time.
struct NearestPlan {
  std::vector<int64_t> xs;
  std::vector<int64_t> base;    // per full chunk: xs[16 k], or -1: byte by byte
  std::vector<uint8_t> masks;   // 16 per chunk
};

__attribute__((target("ssse3"))) void NearestRowSsse3(const NearestPlan& plan, const uint8_t* src,
                                                      uint8_t* dst, int64_t width) {
  const int64_t chunks = static_cast<int64_t>(plan.base.size());
  for (int64_t k = 0; k < chunks; ++k) {
    const int64_t b = plan.base[k];
    if (b < 0) {
      for (int64_t x = 16 * k; x < 16 * k + 16; ++x) dst[x] = src[plan.xs[x]];
      continue;
    }
    const __m128i window = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + b));
    const __m128i mask = _mm_loadu_si128(reinterpret_cast<const __m128i*>(&plan.masks[16 * k]));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 16 * k), _mm_shuffle_epi8(window, mask));
  }
  for (int64_t x = 16 * chunks; x < width; ++x) dst[x] = src[plan.xs[x]];
}

void NearestRow(const NearestPlan& plan, const uint8_t* src, uint8_t* dst, int64_t width) {
  static const bool ssse3 = __builtin_cpu_supports("ssse3");
  if (ssse3) {
    NearestRowSsse3(plan, src, dst, width);
    return;
  }
  for (int64_t x = 0; x < width; ++x) dst[x] = src[plan.xs[x]];
}

}  // namespace

Uint8Image PilNearestResize(const Uint8Image& image, int64_t height, int64_t width) {
  // Pillow's ImagingScaleAffine: the source coordinate is accumulated (xo += a), not multiplied,
  // and the accumulated value is what is truncated; done the same way here.
  NearestPlan plan;
  plan.xs.resize(static_cast<size_t>(width));
  std::vector<int64_t> ys(height);
  const double ax = static_cast<double>(image.width) / width;
  const double ay = static_cast<double>(image.height) / height;
  double xo = ax * 0.5;
  for (int64_t x = 0; x < width; ++x, xo += ax) {
    plan.xs[x] = std::min<int64_t>(xo, image.width - 1);
  }
  double yo = ay * 0.5;
  for (int64_t y = 0; y < height; ++y, yo += ay) ys[y] = std::min<int64_t>(yo, image.height - 1);
  const int64_t chunks = width / 16;
  plan.base.assign(static_cast<size_t>(chunks), -1);
  plan.masks.assign(static_cast<size_t>(16 * chunks), 0);
  // The source rows, each followed by 16 bytes of slack, so that every window can be loaded.
  const int64_t stride = image.width + 16;
  std::vector<uint8_t> padded(static_cast<size_t>(image.channels * image.height * stride), 0);
  for (int64_t r = 0; r < image.channels * image.height; ++r) {
    std::copy_n(image.data.data() + r * image.width, image.width, padded.data() + r * stride);
  }
  for (int64_t k = 0; k < chunks; ++k) {
    const int64_t b = plan.xs[16 * k];
    bool fits = true;
    for (int64_t j = 0; j < 16 && fits; ++j) {
      const int64_t offset = plan.xs[16 * k + j] - b;
      fits = offset >= 0 && offset < 16;
      if (fits) plan.masks[16 * k + j] = static_cast<uint8_t>(offset);
    }
    if (fits) plan.base[k] = b;
  }
  Uint8Image out(image.channels, height, width);
  for (int64_t c = 0; c < image.channels; ++c) {
    for (int64_t y = 0; y < height; ++y) {
      uint8_t* dst = out.plane(c) + y * width;
      if (y > 0 && ys[y] == ys[y - 1]) {  // an enlarged row: the one above, again
        std::copy_n(dst - width, width, dst);
        continue;
      }
      NearestRow(plan, padded.data() + (c * image.height + ys[y]) * stride, dst, width);
    }
  }
  return out;
}

}  // namespace robustness::corruptions_internal
