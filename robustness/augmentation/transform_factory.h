// Augmentation configs -> ImageTransform (robustness/datasets/image_transform.h), the per-image
// functions the batch loader applies. PAPER.md 3.1-3.3: training uses a random crop (PadCrop for
// Fashion-MNIST, RandomResizedCrop for ImageNet) then a horizontal flip; evaluation resizes and
// centre-crops (or leaves images as they are).
#ifndef ROBUSTNESS_AUGMENTATION_TRANSFORM_FACTORY_H_
#define ROBUSTNESS_AUGMENTATION_TRANSFORM_FACTORY_H_

#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "robustness/datasets/image_transform.h"
#include "robustness/proto/augmentation.pb.h"

namespace robustness {

// Checks a training transform before any tensor work. `image_size` (>= 1) is the side of the
// square images the model takes (28 for Fashion-MNIST, 224 for ImageNet); `image_channels` its
// channel count (0 = not known yet: the per-channel checks are skipped). InvalidArgument naming
// the field ("augmentation." prefix, as in TrainingConfig) and the value when: no crop is set;
// horizontal_flip is unset; pad_crop.padding is unset, < 0, or >= image_size (the crop could miss
// the image); random_resized_crop has an unset field, size != image_size, scale outside
// 0 < scale_min <= scale_max <= 1, or ratio outside 0 < ratio_min <= ratio_max; no colour block
// (no_color, rand_augment, color_jitter) or erasing block (no_erasing, random_erasing) is set;
// rand_augment has an unparsable spec (ParseRandAugmentSpec's message), an unset interpolation, a
// fill value outside [0, 255] or not one per channel; color_jitter strengths outside [0, 1];
// random_erasing with a probability outside [0, 1], an unset field, area outside
// 0 < min <= max <= 1, aspect outside 0 < min <= max, counts outside 1 <= min <= max.
// Example message: "augmentation.pad_crop.padding: must be >= 0, got -2".
absl::Status ValidateTrainTransform(const proto::TrainTransformConfig& config, int image_size,
                                    int image_channels = 0);

// The training transform, in timm's order: the crop (PadCrop or RandomResizedCrop), then, if
// horizontal_flip, RandomHorizontalFlip (both drawing from MakeCpuGenerator(seed)); then
// RandAugment or ColorJitter (ScalarRandom(DeriveSeed(seed, {1}))); then Random Erasing
// (ScalarRandom(DeriveSeed(seed, {2}))), whose fill uses the model's normalisation `mean` / `std`
// (one per channel; required only when random_erasing is set). Input float32 [C, H, W] in [0, 1];
// output [C, H, W] (pad_crop) or [C, size, size] (random_resized_crop), in [0, 1] except erased
// pixels (random_erasing.h). Errors: the checks of ValidateTrainTransform that do not need the
// model's input, and random_erasing without mean / std.
absl::StatusOr<ImageTransform> CreateTrainTransform(const proto::TrainTransformConfig& config,
                                                    const std::vector<float>& mean = {},
                                                    const std::vector<float>& std = {});

// Checks an evaluation transform: both fields set and >= 0, and center_crop <= resize_shorter
// when both are > 0. InvalidArgument naming the field ("eval_transform." prefix) and the values.
absl::Status ValidateEvalTransform(const proto::EvalTransformConfig& config);

// The evaluation transform ResizeCenterCrop(image, resize_shorter, center_crop); the seed is
// ignored. (0, 0) is the identity. An image smaller than center_crop (possible only when
// resize_shorter is 0) throws c10::Error, which the batch loader returns as a Status.
absl::StatusOr<ImageTransform> CreateEvalTransform(const proto::EvalTransformConfig& config);

}  // namespace robustness

#endif  // ROBUSTNESS_AUGMENTATION_TRANSFORM_FACTORY_H_
