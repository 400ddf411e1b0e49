// torchvision's RandomResizedCrop (PAPER.md 3.1: ImageNet training at 224 x 224 with scale
// (0.08, 1) and ratio (3/4, 4/3)): a crop of random area fraction and log-uniform aspect ratio,
// resized to a fixed square.
//
// The resize is Pillow's bicubic Image.resize on the uint8 crop (pil_resize.h), bit-exact with
// torchvision's RandomResizedCrop on PIL images (tested against python3-pil on a JPEG photograph
// decoded here, pil_resize_test). The training pipeline runs it crop-first: the loader decodes
// only the sampled box (ImageTransform::CropFirst, Dataset::ImageRegion).
#ifndef ROBUSTNESS_AUGMENTATION_RANDOM_RESIZED_CROP_H_
#define ROBUSTNESS_AUGMENTATION_RANDOM_RESIZED_CROP_H_

#include <cstdint>

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include "robustness/augmentation/uint8_image.h"
#include "robustness/datasets/pixel_box.h"

namespace robustness {

// Plain values from proto::RandomResizedCrop (checked by ValidateTrainTransform):
// size >= 1; 0 < scale_min <= scale_max <= 1; 0 < ratio_min <= ratio_max (ratio = width/height).
struct RandomResizedCropOptions {
  int64_t size;
  double scale_min;
  double scale_max;
  double ratio_min;
  double ratio_max;
};

// A crop rectangle in pixels: rows [top, top + height), columns [left, left + width).
using CropBox = PixelBox;

// torchvision's RandomResizedCrop.get_params for an image of `height` x `width`: up to 10 attempts,
// each drawing area = height * width * U(scale_min, scale_max) and ratio = exp(U(log ratio_min,
// log ratio_max)), w = round(sqrt(area * ratio)), h = round(sqrt(area / ratio)) (round half to
// even, as Python's round); the first with 0 < w <= width and 0 < h <= height is placed at
// top ~ U{0..height-h}, left ~ U{0..width-w}. If all fail, a centred crop of the whole image
// clamped to the ratio range. All draws come from `generator`, in torchvision's order.
CropBox SampleResizedCropBox(int64_t height, int64_t width, const RandomResizedCropOptions& options,
                             at::Generator& generator);

// `image`: float32 [C, H, W] in [0, 1]. Returns float32 [C, size, size] in [0, 1], multiples of
// 1/255: the crop from SampleResizedCropBox, quantised round(255 x) (exact for images decoded from
// uint8), resized by ResizeCrop.
//
// Example: RandomResizedCrop(image, {224, 0.08, 1.0, 3.0 / 4, 4.0 / 3}, generator).
torch::Tensor RandomResizedCrop(const torch::Tensor& image, const RandomResizedCropOptions& options,
                                at::Generator& generator);

// The resize step alone, on the crop already cut out: Pillow's bicubic resize to size x size.
Uint8Image ResizeCrop(const Uint8Image& crop, const RandomResizedCropOptions& options);

}  // namespace robustness

#endif  // ROBUSTNESS_AUGMENTATION_RANDOM_RESIZED_CROP_H_
