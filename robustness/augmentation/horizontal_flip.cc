#include "robustness/augmentation/horizontal_flip.h"

#include <ATen/ATen.h>

#include "glog/logging.h"

namespace robustness {

torch::Tensor RandomHorizontalFlip(const torch::Tensor& image, at::Generator& generator) {
  CHECK_EQ(image.dim(), 3) << "image must be [C, H, W], got " << image.sizes();
  if (at::rand({1}, generator).item<float>() < 0.5f) return image.flip({2});
  return image;
}

}  // namespace robustness
