#include "robustness/augmentation/pad_crop.h"

#include <ATen/ATen.h>

#include "glog/logging.h"

namespace robustness {

torch::Tensor PadCrop(const torch::Tensor& image, int64_t padding, at::Generator& generator) {
  CHECK_EQ(image.dim(), 3) << "image must be [C, H, W], got " << image.sizes();
  CHECK_GE(padding, 0);
  if (padding == 0) return image;
  const int64_t top = at::randint(0, 2 * padding + 1, {1}, generator).item<int64_t>();
  const int64_t left = at::randint(0, 2 * padding + 1, {1}, generator).item<int64_t>();
  return at::constant_pad_nd(image, {padding, padding, padding, padding}, 0.0)
      .narrow(1, top, image.size(1))
      .narrow(2, left, image.size(2))
      .contiguous();
}

}  // namespace robustness
