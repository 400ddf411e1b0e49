// Weather (ood_suite.md 1.2, 10-13) and spatter (18).
#include <algorithm>
#include <cmath>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "robustness/corruptions/internal/filters.h"
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

}  // namespace

// imagecorruptions' snow for every table (Hendrycks' scripts blur the layer with ImageMagick
// through a PNG round trip instead, whose internals are not specified: ood_suite.md 1.2, 10).
Uint8Image Snow(const Uint8Image& x, const Params& p, Random* random) {
  const double mu = p[0], sigma = p[1], zoom = p[2], threshold = p[3], blend = p[6];
  const int radius = static_cast<int>(p[4]);
  const double blur_sigma = p[5];
  const int64_t h = x.height, w = x.width;
  Planes layer(1, h, w);
  for (double& v : layer.v) v = mu + sigma * random->Normal();
  // The zoomed layer is kept whole (not trimmed) through the motion blur, as the reference.
  Planes zoomed = ClippedZoom(layer, zoom, INT64_MAX, INT64_MAX, /*float32=*/false);
  for (double& v : zoomed.v) v = v < threshold ? 0.0 : std::min(v, 1.0);
  const double angle = random->Uniform(-135, -45);
  const Planes blurred = MotionBlur(zoomed, radius, blur_sigma, angle);
  Planes snow(1, h, w);
  for (int64_t r = 0; r < h; ++r) {
    for (int64_t c = 0; c < w; ++c) {
      const double v = blurred.at(0, r, c) * 255.0;
      snow.at(0, r, c) = static_cast<uint8_t>(std::nearbyint(v)) / 255.0;  // np.round: half-even
    }
  }
  std::vector<float> gray(static_cast<size_t>(h * w));
  for (int64_t i = 0; i < h * w; ++i) {
    if (x.channels == 3) {
      // cv2.cvtColor(float32, RGB2GRAY)
      gray[i] = 0.299f * (x.plane(0)[i] / 255.0f) + 0.587f * (x.plane(1)[i] / 255.0f) +
                0.114f * (x.plane(2)[i] / 255.0f);
    } else {
      gray[i] = x.plane(0)[i] / 255.0f;
    }
  }
  Planes out(x.channels, h, w);
  const float fb = static_cast<float>(blend);
  for (int64_t c = 0; c < x.channels; ++c) {
    for (int64_t r = 0; r < h; ++r) {
      for (int64_t col = 0; col < w; ++col) {
        const int64_t i = r * w + col;
        const float v = x.plane(c)[i] / 255.0f;
        const float mixed = fb * v + (1.0f - fb) * std::max(v, gray[i] * 1.5f + 0.5f);
        out.at(c, r, col) =
            static_cast<double>(mixed) + snow.at(0, r, col) + snow.at(0, h - 1 - r, w - 1 - col);
      }
    }
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
  Planes y = ToPlanes(x, 1.0 / 255.0);
  const double max_value = *std::max_element(y.v.begin(), y.v.end());
  const std::vector<float> plasma = PlasmaFractal(map_size, p[1], random);
  for (int64_t c = 0; c < y.channels; ++c) {
    for (int64_t r = 0; r < y.height; ++r) {
      for (int64_t col = 0; col < y.width; ++col) {
        y.at(c, r, col) += p[0] * static_cast<double>(plasma[r * map_size + col]);
      }
    }
  }
  for (double& v : y.v) v = v * max_value / (max_value + p[0]);
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

// imagecorruptions' spatter, with OpenCV's own Canny, distanceTransform, equalizeHist, blur and
// filter2D on the same types (ood_suite.md 1.2, 18). Colours are RGB: water (175, 238, 238), mud
// (63, 42, 20); on grey images their luma.
Uint8Image Spatter(const Uint8Image& x, const Params& p, Random* random) {
  const double mu = p[0], sigma = p[1], blur_sigma = p[2], threshold = p[3], k = p[4];
  const bool mud = p[5] != 0;
  const int64_t h = x.height, w = x.width, n = h * w;
  std::vector<double> liquid(static_cast<size_t>(n));
  for (double& v : liquid) v = mu + sigma * random->Normal();
  GaussianFilter(liquid.data(), h, w, blur_sigma, blur_sigma, 4.0, Border::kNearest,
                 liquid.data());
  for (double& v : liquid) {
    if (v < threshold) v = 0.0;
  }
  const Planes in = ToPlanes(x, 1.0 / 255.0);
  Planes out(x.channels, h, w);
  if (!mud) {
    cv::Mat layer(static_cast<int>(h), static_cast<int>(w), CV_8U);
    for (int64_t i = 0; i < n; ++i) {
      // astype(np.uint8) of float64: truncation (values past 255 wrap, as NumPy's cast on x86).
      layer.data[i] = static_cast<uint8_t>(static_cast<int64_t>(liquid[i] * 255));
    }
    cv::Mat edges, dist, tmp;
    cv::Canny(layer, edges, 50, 150);
    cv::Mat inverted = 255 - edges;
    cv::distanceTransform(inverted, dist, cv::DIST_L2, 5);
    cv::threshold(dist, dist, 20, 20, cv::THRESH_TRUNC);
    cv::blur(dist, tmp, cv::Size(3, 3));
    cv::Mat dist8(tmp.rows, tmp.cols, CV_8U);
    for (int64_t i = 0; i < n; ++i) {
      dist8.data[i] = static_cast<uint8_t>(static_cast<int64_t>(tmp.ptr<float>()[i]));
    }
    cv::equalizeHist(dist8, dist8);
    const cv::Mat ker = (cv::Mat_<double>(3, 3) << -2, -1, 0, -1, 1, 1, 0, 1, 2);
    cv::filter2D(dist8, dist8, CV_8U, ker);
    cv::Mat dist_f;
    cv::blur(dist8, tmp, cv::Size(3, 3));
    tmp.convertTo(dist_f, CV_32F);
    std::vector<float> m(static_cast<size_t>(n));
    float max_m = 0.0f;
    for (int64_t i = 0; i < n; ++i) {
      m[i] = static_cast<float>(layer.data[i]) * dist_f.ptr<float>()[i];
      max_m = std::max(max_m, m[i]);
    }
    const double color[3] = {175 / 255.0, 238 / 255.0, 238 / 255.0};
    const double gray_color = Luma(color[0], color[1], color[2]);
    for (int64_t i = 0; i < n; ++i) {
      // An all-zero layer (nothing above the threshold) adds nothing; the reference divides 0/0.
      const float mm = max_m > 0 ? static_cast<float>(m[i] / max_m * k) : 0.0f;
      for (int64_t c = 0; c < x.channels; ++c) {
        const double add = x.channels == 3 ? mm * color[c] : std::clamp(mm * gray_color, 0.0, 1.0);
        out.plane(c)[i] = in.plane(c)[i] + add;
      }
    }
    return TruncateUnit(out);
  }
  std::vector<double> m(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) m[i] = liquid[i] > threshold ? 1.0 : 0.0;
  GaussianFilter(m.data(), h, w, k, k, 4.0, Border::kNearest, m.data());
  const double color[3] = {63 / 255.0, 42 / 255.0, 20 / 255.0};
  const double gray_color = Luma(color[0], color[1], color[2]);
  for (int64_t i = 0; i < n; ++i) {
    const double mm = static_cast<float>(m[i]) < 0.8f ? 0.0 : static_cast<float>(m[i]);
    for (int64_t c = 0; c < x.channels; ++c) {
      const double col = x.channels == 3 ? color[c] : gray_color;
      out.plane(c)[i] = in.plane(c)[i] * (1 - mm) + mm * col;
    }
  }
  return TruncateUnit(out);
}

}  // namespace robustness::corruptions_internal
