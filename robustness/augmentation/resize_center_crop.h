// The deterministic evaluation transform (EvalTransformConfig; PAPER.md 3.1: Resize(256) then
// CenterCrop(224) for ImageNet; identity for Fashion-MNIST and the 224 x 224 ImageNet-C files).
//
// Resizing is LibTorch's antialiased bilinear interpolation (align_corners = false,
// antialias = true), the tensor path torchvision provides to match PIL's bilinear Resize, which
// the paper's pipeline used: its filter support grows with the downscale factor. Remaining
// difference from PIL: PIL rounds to uint8 after resizing; we keep float32, so pixels differ by
// at most about half a level.
#ifndef ROBUSTNESS_AUGMENTATION_RESIZE_CENTER_CROP_H_
#define ROBUSTNESS_AUGMENTATION_RESIZE_CENTER_CROP_H_

#include <cstdint>

#include <torch/types.h>

namespace robustness {

// `image`: float32 [C, H, W]. Returns [C, H', W'] with min(H', W') = `size` (>= 1, CHECKed) and the
// longer side floor(size * long / short), as torchvision's Resize(int). Returns `image` itself when
// its shorter side already equals `size` (as torchvision).
torch::Tensor ResizeShorterSide(const torch::Tensor& image, int64_t size);

// `image`: [C, H, W] with H, W >= `size` >= 1 (CHECKed). Returns the centred [C, size, size] crop
// (a view), with top = round((H - size) / 2), left = round((W - size) / 2) as torchvision.
torch::Tensor CenterCrop(const torch::Tensor& image, int64_t size);

// ResizeShorterSide(image, resize_shorter) if resize_shorter > 0, then CenterCrop(., center_crop)
// if center_crop > 0; (0, 0) returns `image` unchanged. Both >= 0 (CHECKed); a crop larger than
// the (resized) image is CHECKed (ValidateEvalTransform rejects center_crop > resize_shorter).
torch::Tensor ResizeCenterCrop(const torch::Tensor& image, int64_t resize_shorter,
                               int64_t center_crop);

}  // namespace robustness

#endif  // ROBUSTNESS_AUGMENTATION_RESIZE_CENTER_CROP_H_
