// Blur (ood_suite.md 1.2, 5-9).
#include <algorithm>
#include <cmath>
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

// cv2.filter2D(x, -1, disk) per channel on float64: correlation with reflect-101 borders. Only
// the kernel's non-zero taps are visited (the disk is sparse on its 17 x 17 grid).
Uint8Image DefocusBlur(const Uint8Image& x, const Params& p) {
  const cv::Mat kernel = DiskKernel(p[0], p[1]);
  const int n = kernel.rows, half = n / 2;
  struct Tap {
    int dy, dx;
    double w;
  };
  std::vector<Tap> taps;
  for (int y = 0; y < n; ++y) {
    for (int xx = 0; xx < n; ++xx) {
      const float w = kernel.at<float>(y, xx);
      if (w != 0.0f) taps.push_back({y - half, xx - half, static_cast<double>(w)});
    }
  }
  const Planes in = ToPlanes(x, 1.0 / 255.0);
  Planes out(x.channels, x.height, x.width, 0.0);
  const int64_t h = x.height, w = x.width, pw = w + 2 * half;
  // Each plane padded by `half` with reflect-101 on all sides; a tap is then one shifted row.
  std::vector<double> padded(static_cast<size_t>((h + 2 * half) * pw));
  std::vector<const double*> rows(taps.size());
  std::vector<double> weights;
  for (const Tap& t : taps) weights.push_back(t.w);
  for (int64_t c = 0; c < x.channels; ++c) {
    for (int64_t r = 0; r < h + 2 * half; ++r) {
      const double* src = in.plane(c) + Reflect101(r - half, h) * w;
      for (int64_t i = 0; i < pw; ++i) padded[r * pw + i] = src[Reflect101(i - half, w)];
    }
    for (int64_t r = 0; r < h; ++r) {
      for (size_t t = 0; t < taps.size(); ++t) {
        rows[t] = padded.data() + (r + half + taps[t].dy) * pw + half + taps[t].dx;
      }
      SumOfShiftedRows(rows.data(), weights.data(), static_cast<int>(taps.size()),
                       out.plane(c) + r * w, w);
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
