// Augmentation configs -> ImageTransform (robustness/datasets/image_transform.h), the per-image
// functions the batch loader applies. PAPER.md 3.1-3.3: training uses a random crop (PadCrop for
// Fashion-MNIST, RandomResizedCrop for ImageNet) then a horizontal flip; evaluation resizes and
// centre-crops (or leaves images as they are).
#ifndef ROBUSTNESS_AUGMENTATION_TRANSFORM_FACTORY_H_
#define ROBUSTNESS_AUGMENTATION_TRANSFORM_FACTORY_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "robustness/datasets/image_transform.h"
#include "robustness/proto/augmentation.pb.h"

namespace robustness {

// Checks a training transform before any tensor work. `image_size` (>= 1) is the side of the
// square images the model takes (28 for Fashion-MNIST, 224 for ImageNet). InvalidArgument naming
// the field ("augmentation." prefix, as in TrainingConfig) and the value when: no crop is set;
// horizontal_flip is unset; pad_crop.padding is unset, < 0, or >= image_size (the crop could miss
// the image); random_resized_crop has an unset field, size != image_size, scale outside
// 0 < scale_min <= scale_max <= 1, or ratio outside 0 < ratio_min <= ratio_max.
// Example message: "augmentation.pad_crop.padding: must be >= 0, got -2".
absl::Status ValidateTrainTransform(const proto::TrainTransformConfig& config, int image_size);

// The training transform: the crop (PadCrop or RandomResizedCrop), then, if horizontal_flip,
// RandomHorizontalFlip, all drawing from one generator MakeCpuGenerator(seed). Input float32
// [C, H, W] in [0, 1]; output [C, H, W] (pad_crop) or [C, size, size] (random_resized_crop) in
// [0, 1]. Errors: the checks of ValidateTrainTransform that do not need the image size.
absl::StatusOr<ImageTransform> CreateTrainTransform(const proto::TrainTransformConfig& config);

// Checks an evaluation transform: both fields set and >= 0, and center_crop <= resize_shorter
// when both are > 0. InvalidArgument naming the field ("eval_transform." prefix) and the values.
absl::Status ValidateEvalTransform(const proto::EvalTransformConfig& config);

// The evaluation transform ResizeCenterCrop(image, resize_shorter, center_crop); the seed is
// ignored. (0, 0) is the identity. An image smaller than center_crop (possible only when
// resize_shorter is 0) throws c10::Error, which the batch loader returns as a Status.
absl::StatusOr<ImageTransform> CreateEvalTransform(const proto::EvalTransformConfig& config);

}  // namespace robustness

#endif  // ROBUSTNESS_AUGMENTATION_TRANSFORM_FACTORY_H_
