// Random horizontal flip with p = 0.5 (TrainTransformConfig.horizontal_flip; torchvision
// RandomHorizontalFlip()). PAPER.md 3.2-3.3: both training recipes flip.
#ifndef ROBUSTNESS_AUGMENTATION_HORIZONTAL_FLIP_H_
#define ROBUSTNESS_AUGMENTATION_HORIZONTAL_FLIP_H_

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include "robustness/augmentation/uint8_image.h"

namespace robustness {

// `image`: [C, H, W] (any dtype). Draws u = at::rand({1}) from `generator` (exactly one draw, as
// torchvision does) and returns `image` mirrored along W (a new tensor) if u < 0.5, else `image`
// itself.
torch::Tensor RandomHorizontalFlip(const torch::Tensor& image, at::Generator& generator);

// The same on a planar uint8 image (the crop-first pipeline): the same one draw, the same outcome
// for the same generator state.
Uint8Image RandomHorizontalFlip(const Uint8Image& image, at::Generator& generator);

}  // namespace robustness

#endif  // ROBUSTNESS_AUGMENTATION_HORIZONTAL_FLIP_H_
