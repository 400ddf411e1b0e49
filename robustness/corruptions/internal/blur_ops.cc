// Blur (ood_suite.md 1.2, 5-9).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <utility>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "robustness/corruptions/internal/filters.h"
#include "robustness/corruptions/internal/ops.h"
#include "robustness/corruptions/internal/planes.h"

namespace robustness::corruptions_internal {
namespace {

// The defocus disk: [X^2 + Y^2 <= r^2] on a 17 x 17 grid (r <= 8) or (2r + 1)^2, normalised,
// then OpenCV's GaussianBlur (3 x 3 or 5 x 5, sigma = alias) in float32 - called, not rewritten,
// so the kernel is the reference's to the bit.
cv::Mat DiskKernel(double radius, double alias_blur) {
  const int half = radius <= 8 ? 8 : static_cast<int>(radius);
  const int ksize = radius <= 8 ? 3 : 5;
  const int n = 2 * half + 1;
  cv::Mat disk(n, n, CV_32F);
  float total = 0;
  for (int y = 0; y < n; ++y) {
    for (int x = 0; x < n; ++x) {
      const double dy = y - half, dx = x - half;
      const float inside = dx * dx + dy * dy <= radius * radius ? 1.0f : 0.0f;
      disk.at<float>(y, x) = inside;
      total += inside;
    }
  }
  disk /= total;
  cv::Mat blurred;
  cv::GaussianBlur(disk, blurred, cv::Size(ksize, ksize), alias_blur);
  return blurred;
}

}  // namespace

namespace {

// out = x (*) K for the reference's kernel K = crop(G (*) D) (D the normalised disk on the grid,
// G OpenCV's ksize x ksize Gaussian, crop to the grid), computed as G (*) (D (*) x): the disk
// sum of the uint8 image is a sum over the disk's rows of row runs, and a row run is a
// difference of two integer prefix sums (exact). That is 2 (2 half + 1) integer values and
// 2 ksize float64 taps per output instead of the ~150-400 non-zero taps of K. Where K differs
// from G (*) D by more than float32 round-off (the disk touching the grid's edge: the crop, and
// cv::GaussianBlur's reflected border inside the kernel), the difference is added back as
// explicit taps on the padded image. The result differs from the direct correlation by
// round-off of ~1e-8 (K is float32; here the parts are exact or float64), i.e. ~3e-6 of a grey
// level.
struct DefocusPlan {
  int half = 0;      // K is (2 half + 1)^2
  int g_half = 0;    // G is (2 g_half + 1)^2
  double inv_total = 0;
  std::vector<int> run;  // per disk row dy = -half..half: |dx| <= run (run < 0: empty row)
  std::vector<double> g;
  struct Tap {
    int dy, dx;
    double w;
  };
  std::vector<Tap> corrections;
};

DefocusPlan MakeDefocusPlan(double radius, double alias_blur) {
  DefocusPlan plan;
  const cv::Mat kernel = DiskKernel(radius, alias_blur);
  plan.half = kernel.rows / 2;
  const int ksize = radius <= 8 ? 3 : 5;
  plan.g_half = ksize / 2;
  const cv::Mat g = cv::getGaussianKernel(ksize, alias_blur, CV_64F);
  // GaussianBlur filters the float32 disk with float32 taps, and the disk's values are float32
  // 1 / total: both rounded here too, since their round-off is coherent over all taps (the
  // kernel's sum is off by up to 2e-8, ~5e-6 of a grey level).
  for (int i = 0; i < ksize; ++i) plan.g.push_back(static_cast<float>(g.at<double>(i)));
  const int h = plan.half, gh = plan.g_half, n = 2 * h + 1, big = 2 * (h + gh) + 1;
  int total = 0;
  for (int dy = -h; dy <= h; ++dy) {
    int run = -1;
    for (int dx = 0; dx <= h; ++dx) {
      if (static_cast<double>(dx) * dx + static_cast<double>(dy) * dy <= radius * radius) run = dx;
    }
    plan.run.push_back(run);
    total += run >= 0 ? 2 * run + 1 : 0;
  }
  plan.inv_total = 1.0f / static_cast<float>(total);
  // G (*) D on the extended grid, in float64.
  std::vector<double> model(static_cast<size_t>(big * big), 0.0);
  for (int dy = -h; dy <= h; ++dy) {
    const int run = plan.run[dy + h];
    for (int dx = -run; dx <= run && run >= 0; ++dx) {
      for (int i = -gh; i <= gh; ++i) {
        for (int j = -gh; j <= gh; ++j) {
          model[(dy + i + h + gh) * big + (dx + j + h + gh)] +=
              plan.g[i + gh] * plan.g[j + gh] * plan.inv_total;
        }
      }
    }
  }
  for (int y = 0; y < big; ++y) {
    for (int x = 0; x < big; ++x) {
      const int ky = y - gh, kx = x - gh;
      const double k = ky >= 0 && ky < n && kx >= 0 && kx < n ? kernel.at<float>(ky, kx) : 0.0;
      const double diff = k - model[y * big + x];
      // float32 round-off of K is < 0.04 * 2^-24 = 2.4e-9; real differences are > 1e-7.
      if (std::abs(diff) > 1e-8) plan.corrections.push_back({y - h - gh, x - h - gh, diff});
    }
  }
  return plan;
}

const DefocusPlan& CachedDefocusPlan(double radius, double alias_blur) {
  thread_local std::map<std::pair<double, double>, DefocusPlan> plans;
  auto it = plans.find({radius, alias_blur});
  if (it == plans.end()) {
    it = plans.emplace(std::make_pair(radius, alias_blur), MakeDefocusPlan(radius, alias_blur))
             .first;
  }
  return it->second;
}

// out[i] = sum_k (hi[k][i] - lo[k][i]): the disk's row runs as differences of integer prefix
// sums, exact. 64 outputs in four 16-lane accumulators across all rows of the disk (the
// auto-vectoriser's version fell back to scalar code), then 16, then single outputs.
typedef int32_t I16 __attribute__((vector_size(64)));
__attribute__((target_clones("avx512f", "avx2", "default"))) void SumOfRuns(
    const int32_t* const* hi, const int32_t* const* lo, int rows, int32_t* out, int64_t n) {
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    I16 a[4] = {};
    for (int k = 0; k < rows; ++k) {
      for (int j = 0; j < 4; ++j) {
        I16 u, v;
        std::memcpy(&u, hi[k] + i + 16 * j, sizeof(u));
        std::memcpy(&v, lo[k] + i + 16 * j, sizeof(v));
        a[j] += u - v;
      }
    }
    std::memcpy(out + i, a, sizeof(a));
  }
  for (; i + 16 <= n; i += 16) {
    I16 a = {};
    for (int k = 0; k < rows; ++k) {
      I16 u, v;
      std::memcpy(&u, hi[k] + i, sizeof(u));
      std::memcpy(&v, lo[k] + i, sizeof(v));
      a += u - v;
    }
    std::memcpy(out + i, &a, sizeof(a));
  }
  for (; i < n; ++i) {
    int32_t acc = 0;
    for (int k = 0; k < rows; ++k) acc += hi[k][i] - lo[k][i];
    out[i] = acc;
  }
}

// out[i] = in[i] * scale in float64, a plain loop the compiler vectorises on each clone.
__attribute__((target_clones("avx512f", "avx2", "default"))) void ScaleInts(
    const int32_t* __restrict in, int64_t n, double scale, double* __restrict out) {
  for (int64_t i = 0; i < n; ++i) out[i] = in[i] * scale;
}

}  // namespace

// cv2.filter2D(x, -1, disk) per channel on float64: correlation with reflect-101 borders.
// Computed as G (*) (D (*) x): the disk sums D (*) x of the uint8 image are exact integers
// (column prefix sums, 2 values per disk column), scaled by 1 / (255 total) once, and the
// ksize x ksize Gaussian G runs on them in float64 (separable: G is the outer product of
// getGaussianKernel with itself). Plus the plan's corrections as explicit taps.
Uint8Image DefocusBlur(const Uint8Image& x, const Params& p) {
  const DefocusPlan& plan = CachedDefocusPlan(p[0], p[1]);
  const int64_t h = x.height, w = x.width;
  const int64_t half = plan.half, gh = plan.g_half, pad = half + gh;
  const int64_t pw = w + 2 * pad, ph = h + 2 * pad;
  const int64_t ew = w + 2 * gh, eh = h + 2 * gh;  // the disk sums G reads
  const int64_t g_taps = static_cast<int64_t>(plan.g.size());
  const double unit = plan.inv_total / 255.0;
  Planes out(x.channels, h, w, 0.0);
  // Scratch kept per thread (no zeroing: every value is written before it is read).
  struct Scratch {
    std::vector<uint8_t> padded;
    std::vector<int32_t> prefix, sums;
    std::vector<double> disk, vertical;
    std::vector<const double*> rows;
  };
  thread_local Scratch scratch;
  Scratch& tls = scratch;
  std::vector<uint8_t>& padded = tls.padded;
  std::vector<int32_t>& prefix = tls.prefix;
  std::vector<int32_t>& sums = tls.sums;
  std::vector<double>& disk = tls.disk;
  std::vector<double>& vertical = tls.vertical;
  std::vector<const double*>& rows = tls.rows;
  // Per disk column dx with a run: the offsets of its two prefix rows from row er's (plain
  // locals: a thread-local's address is a call in a shared library, and the loop took it per row).
  std::vector<int64_t> hi_offset, lo_offset;
  for (int64_t dx = -half; dx <= half; ++dx) {
    const int run = plan.run[dx + half];
    if (run < 0) continue;
    hi_offset.push_back((half + run + 1) * pw + half + dx);
    lo_offset.push_back((half - run) * pw + half + dx);
  }
  std::vector<const int32_t*> hi(hi_offset.size()), lo(lo_offset.size());
  padded.resize(static_cast<size_t>(ph * pw));
  prefix.resize(static_cast<size_t>((ph + 1) * pw));
  sums.resize(static_cast<size_t>(ew));
  disk.resize(static_cast<size_t>(eh * ew));
  vertical.resize(static_cast<size_t>(h * ew));
  // The corrections read the padded image as v / 255 in float64.
  std::vector<double> levels;
  std::vector<double> correction_weights;
  for (const DefocusPlan::Tap& t : plan.corrections) correction_weights.push_back(t.w);
  std::vector<double> correction_row(static_cast<size_t>(w));
  std::vector<int64_t> left(static_cast<size_t>(pad)), right(static_cast<size_t>(pad));
  for (int64_t i = 0; i < pad; ++i) {
    left[i] = Reflect101(i - pad, w);
    right[i] = Reflect101(w + i, w);
  }
  for (int64_t c = 0; c < x.channels; ++c) {
    const uint8_t* src = x.plane(c);
    for (int64_t r = 0; r < ph; ++r) {
      const uint8_t* line = src + Reflect101(r - pad, h) * w;
      uint8_t* dst = padded.data() + r * pw;
      for (int64_t i = 0; i < pad; ++i) {
        dst[i] = line[left[i]];
        dst[pad + w + i] = line[right[i]];
      }
      std::memcpy(dst + pad, line, static_cast<size_t>(w));
    }
    // Column prefix sums: prefix[r][j] = sum of padded[0 .. r - 1][j] (a row-wise add, which
    // vectorises; the disk is symmetric under transposition, so its column runs are its row runs).
    std::fill_n(prefix.data(), pw, 0);
    for (int64_t r = 0; r < ph; ++r) {
      const int32_t* above = prefix.data() + r * pw;
      int32_t* next = prefix.data() + (r + 1) * pw;
      const uint8_t* line = padded.data() + r * pw;
      for (int64_t j = 0; j < pw; ++j) next[j] = above[j] + line[j];
    }
    // disk[er][ec] = (D (*) x) centred on padded (er + half, ec + half), in units of 255 total:
    // over the disk's columns dx, the run |dy| <= run(dx) as prefix[er + half + run + 1] -
    // prefix[er + half - run], at column ec + half + dx.
    const int32_t* base = prefix.data();
    for (int64_t er = 0; er < eh; ++er) {
      for (size_t k = 0; k < hi_offset.size(); ++k) {
        hi[k] = base + er * pw + hi_offset[k];
        lo[k] = base + er * pw + lo_offset[k];
      }
      SumOfRuns(hi.data(), lo.data(), static_cast<int>(hi.size()), sums.data(), ew);
      ScaleInts(sums.data(), ew, unit, disk.data() + er * ew);
    }
    // G: vertical taps (one long shifted row), then horizontal.
    rows.resize(g_taps);
    for (int64_t t = 0; t < g_taps; ++t) rows[t] = disk.data() + t * ew;
    SumOfShiftedRows(rows.data(), plan.g.data(), static_cast<int>(g_taps), vertical.data(),
                     h * ew);
    double* o = out.plane(c);
    for (int64_t r = 0; r < h; ++r) {
      for (int64_t t = 0; t < g_taps; ++t) rows[t] = vertical.data() + r * ew + t;
      SumOfShiftedRows(rows.data(), plan.g.data(), static_cast<int>(g_taps), o + r * w, w);
    }
    if (plan.corrections.empty()) continue;
    levels.resize(padded.size());
    for (size_t i = 0; i < padded.size(); ++i) levels[i] = padded[i] / 255.0;
    rows.resize(plan.corrections.size());
    for (int64_t r = 0; r < h; ++r) {
      for (size_t k = 0; k < plan.corrections.size(); ++k) {
        const DefocusPlan::Tap& t = plan.corrections[k];
        rows[k] = levels.data() + (r + t.dy + pad) * pw + pad + t.dx;
      }
      SumOfShiftedRows(rows.data(), correction_weights.data(), static_cast<int>(rows.size()),
                       correction_row.data(), w);
      for (int64_t i = 0; i < w; ++i) o[r * w + i] += correction_row[i];
    }
  }
  return TruncateUnit(out);
}

// x1 = uint8(gaussian(x) * 255) (truncated); iterations of the reverse-raster local shuffle, where
// each visit copies the pixel at a random offset in [-delta, delta - 1]^2 into the visited one (the
// reference's tuple "swap" on H x W x 3 views is that copy, ood_suite.md 1.2, 6); then gaussian
// again. The visits are sequential by definition (later reads see earlier writes).
// Both Gaussians in float32; the intermediate uint8 image is truncated with TruncateUnit(PlanesF)'s
// guard (without it, float32 round-off would drop a flat region by a level about half the time).
Uint8Image GlassBlur(const Uint8Image& x, const Params& p, Random* random) {
  const double sigma = p[0];
  const int delta = static_cast<int>(p[1]);
  const int iterations = static_cast<int>(p[2]);
  PlanesF y = ToPlanesF(x, 1.0 / 255.0);
  GaussianFilterPlanes(&y, sigma, Border::kNearest);
  Uint8Image shuffled = TruncateUnit(y);
  const int64_t h = x.height, w = x.width, plane = h * w;
  Random local = *random;  // kept in registers: uint8_t stores may alias the stream's state
  uint8_t* data = shuffled.data.data();
  // A row's offsets are drawn first, in the visits' order (dx, then dy), then its copies run:
  // the same draws and the same visits, without the stream's serial arithmetic between a copy's
  // store and the next copy's load.
  thread_local std::vector<int32_t> offsets;
  offsets.resize(static_cast<size_t>(w));
  int32_t* offset = offsets.data();
  for (int it = 0; it < iterations; ++it) {
    for (int64_t r = h - delta; r > delta; --r) {
      int64_t count = 0;
      for (int64_t c = w - delta; c > delta; --c) {
        const int64_t dx = local.RandInt(-delta, delta);
        const int64_t dy = local.RandInt(-delta, delta);
        offset[count++] = static_cast<int32_t>(dy * w + dx);
      }
      int64_t to = r * w + (w - delta);
      if (x.channels == 3) {
        uint8_t *p0 = data, *p1 = data + plane, *p2 = data + 2 * plane;
        for (int64_t k = 0; k < count; ++k, --to) {
          const int64_t from = to + offset[k];
          p0[to] = p0[from];
          p1[to] = p1[from];
          p2[to] = p2[from];
        }
      } else {
        for (int64_t k = 0; k < count; ++k, --to) {
          const int64_t from = to + offset[k];
          for (int64_t ch = 0; ch < x.channels; ++ch) {
            data[ch * plane + to] = data[ch * plane + from];
          }
        }
      }
    }
  }
  *random = local;
  PlanesF z = ToPlanesF(shuffled, 1.0 / 255.0);
  GaussianFilterPlanes(&z, sigma, Border::kNearest);
  return TruncateUnit(z);
}

Uint8Image MotionBlurOp(const Uint8Image& x, const Params& p, Random* random) {
  const double angle = random->Uniform(-45, 45);
  const PlanesF in = ToPlanesF(x, 1.0);
  return Truncate255(MotionBlur(in, static_cast<int>(p[0]), p[1], angle));
}

// (x + sum_z clipped_zoom(x, z)) / (K + 1) in float32, as the reference's float32 arrays.
Uint8Image ZoomBlur(const Uint8Image& x, const Params& p) {
  Planes in = ToPlanes(x, 1.0 / 255.0);
  for (double& v : in.v) v = static_cast<float>(v);
  std::vector<float> out(in.v.size(), 0.0f);
  for (double z : p) {
    const Planes layer = ClippedZoom(in, z, x.height, x.width, /*float32=*/true);
    // Zoom factors >= 1 always give layers of at least H x W.
    for (size_t i = 0; i < out.size(); ++i) out[i] += static_cast<float>(layer.v[i]);
  }
  const float k = static_cast<float>(p.size() + 1);
  Planes result(kUninitialized, x.channels, x.height, x.width);  // every value written
  for (size_t i = 0; i < out.size(); ++i) {
    result.v[i] = std::clamp((static_cast<float>(in.v[i]) + out[i]) / k, 0.0f, 1.0f) * 255.0f;
  }
  // float32 * 255 then np.uint8: truncate (the guard of TruncateUnit, in 255 units).
  return Truncate255(result);
}

// float32 (deterministic, but truncated to uint8: the round-off, ~1e-4 of a level, moves a value
// across a level boundary about once in 10^4, the guard once in 10^3).
Uint8Image GaussianBlur(const Uint8Image& x, const Params& p) {
  PlanesF y = ToPlanesF(x, 1.0 / 255.0);
  GaussianFilterPlanes(&y, p[0], Border::kNearest);
  return TruncateUnit(y);
}

}  // namespace robustness::corruptions_internal
