#include "robustness/augmentation/transform_factory.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "robustness/augmentation/horizontal_flip.h"
#include "robustness/augmentation/pad_crop.h"
#include "robustness/augmentation/random_resized_crop.h"
#include "robustness/augmentation/resize_center_crop.h"
#include "robustness/base/seed.h"
#include "robustness/base/status_macros.h"

namespace robustness {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

// The checks that do not depend on the model's image size.
absl::Status ValidateTrainFields(const proto::TrainTransformConfig& config) {
  if (!config.has_horizontal_flip()) return Invalid("augmentation.horizontal_flip", "must be set");
  switch (config.crop_case()) {
    case proto::TrainTransformConfig::kPadCrop: {
      const proto::PadCrop& pad = config.pad_crop();
      if (!pad.has_padding()) return Invalid("augmentation.pad_crop.padding", "must be set");
      if (pad.padding() < 0) {
        return Invalid("augmentation.pad_crop.padding",
                       absl::StrCat("must be >= 0, got ", pad.padding()));
      }
      return absl::OkStatus();
    }
    case proto::TrainTransformConfig::kRandomResizedCrop: {
      const proto::RandomResizedCrop& rrc = config.random_resized_crop();
      constexpr char kPrefix[] = "augmentation.random_resized_crop.";
      if (!rrc.has_size()) return Invalid(absl::StrCat(kPrefix, "size"), "must be set");
      if (!rrc.has_scale_min()) return Invalid(absl::StrCat(kPrefix, "scale_min"), "must be set");
      if (!rrc.has_scale_max()) return Invalid(absl::StrCat(kPrefix, "scale_max"), "must be set");
      if (!rrc.has_ratio_min()) return Invalid(absl::StrCat(kPrefix, "ratio_min"), "must be set");
      if (!rrc.has_ratio_max()) return Invalid(absl::StrCat(kPrefix, "ratio_max"), "must be set");
      if (rrc.size() < 1) {
        return Invalid(absl::StrCat(kPrefix, "size"),
                       absl::StrCat("must be >= 1, got ", rrc.size()));
      }
      if (!(rrc.scale_min() > 0.0)) {
        return Invalid(absl::StrCat(kPrefix, "scale_min"),
                       absl::StrCat("must be > 0, got ", rrc.scale_min()));
      }
      if (!(rrc.scale_min() <= rrc.scale_max())) {
        return Invalid(
            absl::StrCat(kPrefix, "scale_min"),
            absl::StrCat("must be <= scale_max ", rrc.scale_max(), ", got ", rrc.scale_min()));
      }
      if (!(rrc.scale_max() <= 1.0)) {
        return Invalid(absl::StrCat(kPrefix, "scale_max"),
                       absl::StrCat("must be <= 1, got ", rrc.scale_max()));
      }
      if (!(rrc.ratio_min() > 0.0)) {
        return Invalid(absl::StrCat(kPrefix, "ratio_min"),
                       absl::StrCat("must be > 0, got ", rrc.ratio_min()));
      }
      if (!(rrc.ratio_min() <= rrc.ratio_max())) {
        return Invalid(
            absl::StrCat(kPrefix, "ratio_min"),
            absl::StrCat("must be <= ratio_max ", rrc.ratio_max(), ", got ", rrc.ratio_min()));
      }
      return absl::OkStatus();
    }
    case proto::TrainTransformConfig::CROP_NOT_SET:
      break;
  }
  return Invalid("augmentation.crop", "set one of pad_crop, random_resized_crop");
}

}  // namespace

absl::Status ValidateTrainTransform(const proto::TrainTransformConfig& config, int image_size) {
  RETURN_IF_ERROR(ValidateTrainFields(config));
  if (config.has_pad_crop() && config.pad_crop().padding() >= image_size) {
    return Invalid("augmentation.pad_crop.padding",
                   absl::StrCat("must be < the image size ", image_size, ", got ",
                                config.pad_crop().padding()));
  }
  if (config.has_random_resized_crop() && config.random_resized_crop().size() != image_size) {
    return Invalid("augmentation.random_resized_crop.size",
                   absl::StrCat("must equal the model's image size ", image_size, ", got ",
                                config.random_resized_crop().size()));
  }
  return absl::OkStatus();
}

absl::StatusOr<ImageTransform> CreateTrainTransform(const proto::TrainTransformConfig& config) {
  RETURN_IF_ERROR(ValidateTrainFields(config));
  const bool flip = config.horizontal_flip();
  if (config.has_pad_crop()) {
    const int64_t padding = config.pad_crop().padding();
    return ImageTransform([padding, flip](const torch::Tensor& image, uint64_t seed) {
      at::Generator generator = MakeCpuGenerator(seed);
      torch::Tensor out = PadCrop(image, padding, generator);
      return flip ? RandomHorizontalFlip(out, generator) : out;
    });
  }
  const proto::RandomResizedCrop& rrc = config.random_resized_crop();
  const RandomResizedCropOptions options = {rrc.size(), rrc.scale_min(), rrc.scale_max(),
                                            rrc.ratio_min(), rrc.ratio_max()};
  return ImageTransform([options, flip](const torch::Tensor& image, uint64_t seed) {
    at::Generator generator = MakeCpuGenerator(seed);
    torch::Tensor out = RandomResizedCrop(image, options, generator);
    return flip ? RandomHorizontalFlip(out, generator) : out;
  });
}

absl::Status ValidateEvalTransform(const proto::EvalTransformConfig& config) {
  if (!config.has_resize_shorter()) return Invalid("eval_transform.resize_shorter", "must be set");
  if (!config.has_center_crop()) return Invalid("eval_transform.center_crop", "must be set");
  if (config.resize_shorter() < 0) {
    return Invalid("eval_transform.resize_shorter",
                   absl::StrCat("must be >= 0, got ", config.resize_shorter()));
  }
  if (config.center_crop() < 0) {
    return Invalid("eval_transform.center_crop",
                   absl::StrCat("must be >= 0, got ", config.center_crop()));
  }
  if (config.resize_shorter() > 0 && config.center_crop() > config.resize_shorter()) {
    return Invalid("eval_transform.center_crop",
                   absl::StrCat("must be <= resize_shorter ", config.resize_shorter(), ", got ",
                                config.center_crop()));
  }
  return absl::OkStatus();
}

absl::StatusOr<ImageTransform> CreateEvalTransform(const proto::EvalTransformConfig& config) {
  RETURN_IF_ERROR(ValidateEvalTransform(config));
  const int64_t resize = config.resize_shorter();
  const int64_t crop = config.center_crop();
  return ImageTransform([resize, crop](const torch::Tensor& image, uint64_t /*seed*/) {
    if (resize == 0 && crop > 0) {
      // User data, not a programmer error: thrown so the batch loader reports it as a Status.
      TORCH_CHECK(image.size(1) >= crop && image.size(2) >= crop, "image of shape ", image.sizes(),
                  " is smaller than eval_transform.center_crop ", crop);
    }
    return ResizeCenterCrop(image, resize, crop);
  });
}

}  // namespace robustness
