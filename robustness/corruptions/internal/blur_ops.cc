// Blur (ood_suite.md 1.2, 5-9).
#include <algorithm>
#include <cmath>
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
// G OpenCV's ksize x ksize Gaussian, crop to the grid), computed as D (*) (G (*) x): the blurred
// image's disk sum is a sum over the disk's rows of row runs, and a row run is a difference of
// two prefix sums. That is 2 (2 half + 1) + 2 ksize values per output instead of the ~150-400
// non-zero taps of K. Where K differs from G (*) D by more than float32 round-off (the disk
// touching the grid's edge: the crop, and cv::GaussianBlur's reflected border inside the
// kernel), the difference is added back as explicit taps on the padded image. The result
// differs from the direct correlation by round-off of ~1e-8 (K is float32; here the parts are
// float64), i.e. ~3e-6 of a grey level.
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

}  // namespace

// cv2.filter2D(x, -1, disk) per channel on float64: correlation with reflect-101 borders.
Uint8Image DefocusBlur(const Uint8Image& x, const Params& p) {
  const DefocusPlan& plan = CachedDefocusPlan(p[0], p[1]);
  const int64_t h = x.height, w = x.width;
  const int64_t half = plan.half, gh = plan.g_half, pad = half + gh;
  const int64_t pw = w + 2 * pad, ph = h + 2 * pad;
  const int64_t bw = w + 2 * half, bh = h + 2 * half;  // the blurred image's extent
  const int64_t g_taps = static_cast<int64_t>(plan.g.size());
  Planes out(x.channels, h, w, 0.0);
  std::vector<double> padded(static_cast<size_t>(ph * pw));
  std::vector<double> vertical(static_cast<size_t>(bh * pw));
  std::vector<double> prefix(static_cast<size_t>(bh * (bw + 1)));
  std::vector<const double*> rows;
  std::vector<double> weights;
  std::vector<int64_t> column(static_cast<size_t>(pw));
  for (int64_t i = 0; i < pw; ++i) column[i] = Reflect101(i - pad, w);
  double level[256];
  for (int v = 0; v < 256; ++v) level[v] = v / 255.0;
  for (int64_t c = 0; c < x.channels; ++c) {
    const uint8_t* src = x.plane(c);
    for (int64_t r = 0; r < ph; ++r) {
      const uint8_t* line = src + Reflect101(r - pad, h) * w;
      double* dst = padded.data() + r * pw;
      for (int64_t i = 0; i < pw; ++i) dst[i] = level[line[column[i]]];
    }
    // G (*) padded: vertical taps, then horizontal, each as a sum of shifted rows.
    rows.resize(g_taps);
    for (int64_t r = 0; r < bh; ++r) {
      for (int64_t t = 0; t < g_taps; ++t) rows[t] = padded.data() + (r + t) * pw;
      SumOfShiftedRows(rows.data(), plan.g.data(), static_cast<int>(g_taps),
                       vertical.data() + r * pw, pw);
    }
    std::vector<double> blurred_row(static_cast<size_t>(bw));
    for (int64_t r = 0; r < bh; ++r) {
      for (int64_t t = 0; t < g_taps; ++t) rows[t] = vertical.data() + r * pw + t;
      SumOfShiftedRows(rows.data(), plan.g.data(), static_cast<int>(g_taps), blurred_row.data(),
                       bw);
      double* s = prefix.data() + r * (bw + 1);
      s[0] = 0.0;
      for (int64_t i = 0; i < bw; ++i) s[i + 1] = s[i] + blurred_row[i];
    }
    double* o = out.plane(c);
    for (int64_t r = 0; r < h; ++r) {
      rows.clear();
      weights.clear();
      for (int64_t dy = -half; dy <= half; ++dy) {
        const int run = plan.run[dy + half];
        if (run < 0) continue;
        const double* s = prefix.data() + (r + dy + half) * (bw + 1);
        // Output column col sums blurred columns col + half - run .. col + half + run.
        rows.push_back(s + half + run + 1);
        weights.push_back(plan.inv_total);
        rows.push_back(s + half - run);
        weights.push_back(-plan.inv_total);
      }
      for (const DefocusPlan::Tap& t : plan.corrections) {
        rows.push_back(padded.data() + (r + t.dy + pad) * pw + pad + t.dx);
        weights.push_back(t.w);
      }
      SumOfShiftedRows(rows.data(), weights.data(), static_cast<int>(rows.size()), o + r * w, w);
    }
  }
  return TruncateUnit(out);
}

// x1 = uint8(gaussian(x) * 255) (truncated); iterations of the reverse-raster local shuffle, where
// each visit copies the pixel at a random offset in [-delta, delta - 1]^2 into the visited one (the
// reference's tuple "swap" on H x W x 3 views is that copy, ood_suite.md 1.2, 6); then gaussian
// again. The visits are sequential by definition (later reads see earlier writes).
Uint8Image GlassBlur(const Uint8Image& x, const Params& p, Random* random) {
  const double sigma = p[0];
  const int delta = static_cast<int>(p[1]);
  const int iterations = static_cast<int>(p[2]);
  Planes y = ToPlanes(x, 1.0 / 255.0);
  GaussianFilterPlanes(&y, sigma, Border::kNearest);
  Uint8Image shuffled(x.channels, x.height, x.width);
  for (size_t i = 0; i < y.v.size(); ++i) {
    shuffled.data[i] = static_cast<uint8_t>(std::clamp(y.v[i] * 255.0, 0.0, 255.0));
  }
  const int64_t h = x.height, w = x.width, plane = h * w;
  Random local = *random;  // kept in registers: uint8_t stores may alias the stream's state
  uint8_t* data = shuffled.data.data();
  for (int it = 0; it < iterations; ++it) {
    for (int64_t r = h - delta; r > delta; --r) {
      for (int64_t c = w - delta; c > delta; --c) {
        const int64_t dx = local.RandInt(-delta, delta);
        const int64_t dy = local.RandInt(-delta, delta);
        const int64_t from = (r + dy) * w + (c + dx), to = r * w + c;
        for (int64_t ch = 0; ch < x.channels; ++ch) data[ch * plane + to] = data[ch * plane + from];
      }
    }
  }
  *random = local;
  Planes z = ToPlanes(shuffled, 1.0 / 255.0);
  GaussianFilterPlanes(&z, sigma, Border::kNearest);
  return TruncateUnit(z);
}

Uint8Image MotionBlurOp(const Uint8Image& x, const Params& p, Random* random) {
  const double angle = random->Uniform(-45, 45);
  const Planes in = ToPlanes(x, 1.0);
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
  Planes result(x.channels, x.height, x.width);
  for (size_t i = 0; i < out.size(); ++i) {
    result.v[i] = std::clamp((static_cast<float>(in.v[i]) + out[i]) / k, 0.0f, 1.0f) * 255.0f;
  }
  // float32 * 255 then np.uint8: truncate (the guard of TruncateUnit, in 255 units).
  return Truncate255(result);
}

Uint8Image GaussianBlur(const Uint8Image& x, const Params& p) {
  Planes y = ToPlanes(x, 1.0 / 255.0);
  GaussianFilterPlanes(&y, p[0], Border::kNearest);
  return TruncateUnit(y);
}

}  // namespace robustness::corruptions_internal
