#include "robustness/augmentation/horizontal_flip.h"

#include <algorithm>

#include <ATen/ATen.h>

#include "glog/logging.h"

namespace robustness {

torch::Tensor RandomHorizontalFlip(const torch::Tensor& image, at::Generator& generator) {
  CHECK_EQ(image.dim(), 3) << "image must be [C, H, W], got " << image.sizes();
  if (at::rand({1}, generator).item<float>() < 0.5f) return image.flip({2});
  return image;
}

Uint8Image RandomHorizontalFlip(const Uint8Image& image, at::Generator& generator) {
  if (!(at::rand({1}, generator).item<float>() < 0.5f)) return image;
  Uint8Image out(image.channels, image.height, image.width);
  for (int64_t c = 0; c < image.channels; ++c) {
    for (int64_t y = 0; y < image.height; ++y) {
      const uint8_t* in = image.plane(c) + y * image.width;
      std::reverse_copy(in, in + image.width, out.plane(c) + y * image.width);
    }
  }
  return out;
}

}  // namespace robustness
