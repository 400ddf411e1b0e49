#include "robustness/augmentation/random_resized_crop.h"

#include <cmath>

#include <ATen/ATen.h>

#include "glog/logging.h"
#include "robustness/augmentation/pil_resize.h"

namespace robustness {
namespace {

constexpr int kAttempts = 10;

// Python's round(): half to even (std::nearbyint in the default rounding mode).
int64_t RoundHalfEven(double x) { return static_cast<int64_t>(std::nearbyint(x)); }

double Uniform(double low, double high, at::Generator& generator) {
  return at::empty({1}, at::kFloat).uniform_(low, high, generator).item<double>();
}

}  // namespace

CropBox SampleResizedCropBox(int64_t height, int64_t width, const RandomResizedCropOptions& options,
                             at::Generator& generator) {
  CHECK_GE(height, 1);
  CHECK_GE(width, 1);
  CHECK_GT(options.scale_min, 0.0);
  CHECK_LE(options.scale_min, options.scale_max);
  CHECK_GT(options.ratio_min, 0.0);
  CHECK_LE(options.ratio_min, options.ratio_max);
  const double area = static_cast<double>(height * width);
  const double log_ratio_min = std::log(options.ratio_min);
  const double log_ratio_max = std::log(options.ratio_max);
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    const double target_area = area * Uniform(options.scale_min, options.scale_max, generator);
    const double aspect_ratio = std::exp(Uniform(log_ratio_min, log_ratio_max, generator));
    const int64_t w = RoundHalfEven(std::sqrt(target_area * aspect_ratio));
    const int64_t h = RoundHalfEven(std::sqrt(target_area / aspect_ratio));
    if (0 < w && w <= width && 0 < h && h <= height) {
      const int64_t top = at::randint(0, height - h + 1, {1}, generator).item<int64_t>();
      const int64_t left = at::randint(0, width - w + 1, {1}, generator).item<int64_t>();
      return {top, left, h, w};
    }
  }
  // Fallback: the whole image, cut to the nearest allowed aspect ratio, centred.
  const double in_ratio = static_cast<double>(width) / static_cast<double>(height);
  int64_t w = width;
  int64_t h = height;
  if (in_ratio < options.ratio_min) {
    h = RoundHalfEven(static_cast<double>(w) / options.ratio_min);
  } else if (in_ratio > options.ratio_max) {
    w = RoundHalfEven(static_cast<double>(h) * options.ratio_max);
  }
  return {(height - h) / 2, (width - w) / 2, h, w};
}

torch::Tensor RandomResizedCrop(const torch::Tensor& image, const RandomResizedCropOptions& options,
                                at::Generator& generator) {
  CHECK_EQ(image.dim(), 3) << "image must be [C, H, W], got " << image.sizes();
  CHECK_GE(options.size, 1);
  const CropBox box = SampleResizedCropBox(image.size(1), image.size(2), options, generator);
  const Uint8Image crop =
      ToUint8Image(image.narrow(1, box.top, box.height).narrow(2, box.left, box.width));
  return ToFloatTensor(ResizeCrop(crop, options));
}

Uint8Image ResizeCrop(const Uint8Image& crop, const RandomResizedCropOptions& options) {
  CHECK_GE(options.size, 1);
  return PilResize(crop, options.size, options.size, Resample::kBicubic);
}

}  // namespace robustness
