// Digital (ood_suite.md 1.2, 14-17) and saturate (19).
#include <algorithm>
#include <cmath>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "robustness/augmentation/pil_resize.h"
#include "robustness/corruptions/internal/filters.h"
#include "robustness/corruptions/internal/jpeg_codec.h"
#include "robustness/corruptions/internal/opencv_ops.h"
#include "robustness/corruptions/internal/ops.h"
#include "robustness/corruptions/internal/planes.h"

namespace robustness::corruptions_internal {

// (x - mean_c) c + mean_c per channel: an affine map of the 256 input levels, so one 256-entry
// table per channel computed with the same float64 expression and truncation as the rest.
Uint8Image Contrast(const Uint8Image& x, const Params& p) {
  Uint8Image y(x.channels, x.height, x.width);
  const int64_t n = x.plane_size();
  for (int64_t c = 0; c < x.channels; ++c) {
    const uint8_t* in = x.plane(c);
    // The mean of v / 255 from the exact integer sum (NumPy's pairwise float sum differs from
    // either in the last bits only).
    int64_t sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += in[i];
    const double mean = static_cast<double>(sum) / 255.0 / static_cast<double>(n);
    Planes levels(1, 1, 256);
    for (int v = 0; v < 256; ++v) levels.v[v] = (v / 255.0 - mean) * p[0] + mean;
    const Uint8Image table = TruncateUnit(levels);
    LookUpBytes(table.data.data(), in, n, y.plane(c));
  }
  return y;
}

namespace {

// A displacement field: alpha * gaussian(U(-range, range)^{H x W}, sigma, 'reflect', truncate 3),
// rounded to float32 as the references' astype(np.float32). The filter runs in float32 (a random
// field: its round-off, ~1e-7 relative, is nothing beside the draws).
std::vector<double> DisplacementField(int64_t h, int64_t w, double range, double sigma_y,
                                      double sigma_x, double alpha, Random* random) {
  std::vector<float> field(static_cast<size_t>(h * w));
  for (float& v : field) v = static_cast<float>(random->Uniform(-range, range));
  GaussianFilter(field.data(), h, w, sigma_y, sigma_x, 3.0, Border::kReflect, field.data());
  std::vector<double> out(field.size());
  for (size_t i = 0; i < field.size(); ++i) out[i] = static_cast<float>(field[i] * alpha);
  return out;
}

// scipy.ndimage.map_coordinates(order=1, mode='reflect') at (r + dy, c + dx) per pixel, every
// channel, float32 values (the taps and weights in float64 once per pixel, each channel's
// interpolation in float64 from its float32 values, rounded to float32 as the reference's output).
PlanesF SampleDisplaced(const PlanesF& image, const std::vector<double>& dx,
                        const std::vector<double>& dy) {
  const int64_t h = image.height, w = image.width;
  PlanesF out(kUninitialized, image.channels, h, w);  // every value written
  for (int64_t r = 0; r < h; ++r) {
    for (int64_t c = 0; c < w; ++c) {
      const int64_t i = r * w + c;
      const double py = r + dy[i], px = c + dx[i];
      const double fy0 = std::floor(py), fx0 = std::floor(px);
      const double fy = py - fy0, fx = px - fx0;
      const int64_t y0 = static_cast<int64_t>(fy0), x0 = static_cast<int64_t>(fx0);
      const int64_t ya = ReflectHalf(y0, h) * w, yb = ReflectHalf(y0 + 1, h) * w;
      const int64_t xa = ReflectHalf(x0, w), xb = ReflectHalf(x0 + 1, w);
      for (int64_t ch = 0; ch < image.channels; ++ch) {
        const float* p = image.plane(ch);
        const double v = (1 - fy) * ((1 - fx) * p[ya + xa] + fx * p[ya + xb]) +
                         fy * ((1 - fx) * p[yb + xa] + fx * p[yb + xb]);
        out.plane(ch)[i] = static_cast<float>(v);
      }
    }
  }
  return out;
}

// Hendrycks' random affine (ood_suite.md 1.2, 15): three points around the centre, each moved by
// U(-a, a) in float32; OpenCV's getAffineTransform and warpAffine (bilinear, reflect-101), called
// as the reference calls them.
PlanesF RandomAffine(const PlanesF& image, double range, Random* random) {
  const int64_t h = image.height, w = image.width;
  const float c0 = static_cast<float>(h / 2), c1 = static_cast<float>(w / 2);
  const float sq = static_cast<float>(std::min(h, w) / 3);
  cv::Point2f from[3] = {{c0 + sq, c1 + sq}, {c0 + sq, c1 - sq}, {c0 - sq, c1 - sq}};
  cv::Point2f to[3];
  for (int k = 0; k < 3; ++k) {
    const float ax = static_cast<float>(random->Uniform(-range, range));
    const float ay = static_cast<float>(random->Uniform(-range, range));
    to[k] = {from[k].x + ax, from[k].y + ay};
  }
  const cv::Mat m = cv::getAffineTransform(from, to);
  cv::Mat src(static_cast<int>(h), static_cast<int>(w), CV_32FC(static_cast<int>(image.channels)));
  float* s = src.ptr<float>();
  for (int64_t i = 0; i < h * w; ++i) {
    for (int64_t ch = 0; ch < image.channels; ++ch) s[i * image.channels + ch] = image.plane(ch)[i];
  }
  cv::Mat dst;
  cv::warpAffine(src, dst, m, src.size(), cv::INTER_LINEAR, cv::BORDER_REFLECT_101);
  PlanesF out(kUninitialized, image.channels, h, w);  // every value written
  const float* d = dst.ptr<float>();
  for (int64_t i = 0; i < h * w; ++i) {
    for (int64_t ch = 0; ch < image.channels; ++ch) out.plane(ch)[i] = d[i * image.channels + ch];
  }
  return out;
}

}  // namespace

Uint8Image ElasticTransform(const Uint8Image& x, const Params& p, const OpContext& context,
                            Random* random) {
  PlanesF image = ToPlanesF(x, 1.0 / 255.0);
  const int64_t h = x.height, w = x.width;
  std::vector<double> dx, dy;
  if (context.table == proto::IMAGECORRUPTIONS) {
    // sigma = 1% of each side, field range 0.5% of the height, no affine.
    const double range = h * 0.005;
    dx = DisplacementField(h, w, range, h * 0.01, w * 0.01, p[0], random);
    dy = DisplacementField(h, w, range, h * 0.01, w * 0.01, p[0], random);
  } else {
    image = RandomAffine(image, p[2], random);
    dx = DisplacementField(h, w, 1.0, p[1], p[1], p[0], random);
    dy = DisplacementField(h, w, 1.0, p[1], p[1], p[0], random);
  }
  return TruncateUnit(SampleDisplaced(image, dx, dy));
}

// Pillow BOX down to (floor(W c), floor(H c)), then back up: NEAREST in imagecorruptions, BOX in
// Hendrycks' scripts (ood_suite.md 6.7).
Uint8Image Pixelate(const Uint8Image& x, const Params& p, const OpContext& context) {
  const int64_t h = std::max<int64_t>(1, static_cast<int64_t>(x.height * p[0]));
  const int64_t w = std::max<int64_t>(1, static_cast<int64_t>(x.width * p[0]));
  const Uint8Image small = PilResize(x, h, w, Resample::kBox);
  if (context.table == proto::IMAGECORRUPTIONS) return PilNearestResize(small, x.height, x.width);
  return PilResize(small, x.height, x.width, Resample::kBox);
}

// Pillow's JPEG save at the quality, then decode. Grey images are coded as 1-component JPEGs
// (the reference goes L -> RGB -> JPEG 4:2:0 -> L, whose chroma planes are flat 128).
absl::StatusOr<Uint8Image> JpegCompression(const Uint8Image& x, const Params& p) {
  return JpegRoundTrip(x, static_cast<int>(p[0]));
}

// S <- clip(S c0 + c1). Identity on grey images, as the reference's own grey branch (which keeps
// channel 0, = V, of the replicated image); see corruptor.h for corrupt()'s RGB behaviour.
Uint8Image Saturate(const Uint8Image& x, const Params& p) {
  if (x.channels == 1) return x;
  Planes y = ToPlanes(x, 1.0 / 255.0);
  MapHsv(&y, [&](double*, double* s, double*) { *s = std::clamp(*s * p[0] + p[1], 0.0, 1.0); });
  return TruncateUnit(y);
}

}  // namespace robustness::corruptions_internal
