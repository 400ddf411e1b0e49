#include "robustness/augmentation/resize_center_crop.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <ATen/ATen.h>
#include <torch/nn/functional/upsampling.h>

#include "glog/logging.h"

namespace robustness {

torch::Tensor ResizeShorterSide(const torch::Tensor& image, int64_t size) {
  CHECK_EQ(image.dim(), 3) << "image must be [C, H, W], got " << image.sizes();
  CHECK_GE(size, 1);
  const int64_t height = image.size(1);
  const int64_t width = image.size(2);
  const int64_t shorter = std::min(height, width);
  if (shorter == size) return image;
  const int64_t longer = std::max(height, width) * size / shorter;  // floor, as int() in Python.
  const std::vector<int64_t> out_size =
      height <= width ? std::vector<int64_t>{size, longer} : std::vector<int64_t>{longer, size};
  namespace F = torch::nn::functional;
  return F::interpolate(
             image.unsqueeze(0),
             F::InterpolateFuncOptions().size(out_size).mode(torch::kBilinear).align_corners(false).antialias(true))
      .squeeze(0);
}

torch::Tensor CenterCrop(const torch::Tensor& image, int64_t size) {
  CHECK_EQ(image.dim(), 3) << "image must be [C, H, W], got " << image.sizes();
  CHECK_GE(size, 1);
  CHECK_LE(size, image.size(1)) << "crop larger than the image " << image.sizes();
  CHECK_LE(size, image.size(2)) << "crop larger than the image " << image.sizes();
  const int64_t top = static_cast<int64_t>(std::nearbyint((image.size(1) - size) / 2.0));
  const int64_t left = static_cast<int64_t>(std::nearbyint((image.size(2) - size) / 2.0));
  return image.narrow(1, top, size).narrow(2, left, size);
}

torch::Tensor ResizeCenterCrop(const torch::Tensor& image, int64_t resize_shorter,
                               int64_t center_crop) {
  CHECK_GE(resize_shorter, 0);
  CHECK_GE(center_crop, 0);
  torch::Tensor out = image;
  if (resize_shorter > 0) out = ResizeShorterSide(out, resize_shorter);
  if (center_crop > 0) out = CenterCrop(out, center_crop);
  return out;
}

}  // namespace robustness
