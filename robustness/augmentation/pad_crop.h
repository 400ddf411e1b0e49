// The standard small-image training crop (PadCrop in augmentation.proto; torchvision
// RandomCrop(size, padding)): zero-pad every side, then crop back to the input size at a random
// offset. Used for Fashion-MNIST training (PAPER.md 3.1).
#ifndef ROBUSTNESS_AUGMENTATION_PAD_CROP_H_
#define ROBUSTNESS_AUGMENTATION_PAD_CROP_H_

#include <cstdint>

#include <ATen/core/Generator.h>
#include <torch/types.h>

namespace robustness {

// `image`: float32 [C, H, W] in [0, 1]; `padding` >= 0 pixels (CHECKed). Returns a new float32
// [C, H, W] tensor: the image padded with `padding` zeros on each side, cropped at top offset i
// then left offset j, each drawn uniformly from [0, 2 * padding] with at::randint on `generator`
// (two draws, i first, as torchvision). Every output pixel is an input pixel or 0. padding == 0
// returns `image` itself and draws nothing.
//
// Example: PadCrop(image, 4, generator) for a [1, 28, 28] Fashion-MNIST image.
torch::Tensor PadCrop(const torch::Tensor& image, int64_t padding, at::Generator& generator);

}  // namespace robustness

#endif  // ROBUSTNESS_AUGMENTATION_PAD_CROP_H_
