#include "robustness/augmentation/transform_factory.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "robustness/augmentation/color_jitter.h"
#include "robustness/augmentation/horizontal_flip.h"
#include "robustness/augmentation/pad_crop.h"
#include "robustness/augmentation/rand_augment.h"
#include "robustness/augmentation/random_erasing.h"
#include "robustness/augmentation/random_resized_crop.h"
#include "robustness/augmentation/resize_center_crop.h"
#include "robustness/augmentation/uint8_image.h"
#include "robustness/base/scalar_random.h"
#include "robustness/base/seed.h"
#include "robustness/base/status_macros.h"

namespace robustness {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", problem));
}

absl::Status InUnitRange(absl::string_view field, bool has, double v) {
  if (!has) return Invalid(field, "must be set");
  if (!(v >= 0.0 && v <= 1.0)) return Invalid(field, absl::StrCat("must be in [0, 1], got ", v));
  return absl::OkStatus();
}

absl::Status ValidateColor(const proto::TrainTransformConfig& config) {
  switch (config.color_case()) {
    case proto::TrainTransformConfig::kNoColor:
      return absl::OkStatus();
    case proto::TrainTransformConfig::kRandAugment: {
      const proto::RandAugmentConfig& ra = config.rand_augment();
      if (!ra.has_spec()) return Invalid("augmentation.rand_augment.spec", "must be set");
      absl::StatusOr<RandAugmentParams> params = ParseRandAugmentSpec(ra.spec());
      if (!params.ok()) return Invalid("augmentation.rand_augment.spec", params.status().message());
      if (ra.interpolation() == proto::RandAugmentConfig::INTERPOLATION_UNSPECIFIED) {
        return Invalid("augmentation.rand_augment.interpolation",
                       "must be set (BILINEAR, BICUBIC or RANDOM)");
      }
      if (ra.fill_size() == 0) {
        return Invalid("augmentation.rand_augment.fill",
                       "must give one value per image channel (ImageNet: [124, 116, 104])");
      }
      for (int i = 0; i < ra.fill_size(); ++i) {
        if (ra.fill(i) < 0 || ra.fill(i) > 255) {
          return Invalid(absl::StrCat("augmentation.rand_augment.fill[", i, "]"),
                         absl::StrCat("must be in [0, 255], got ", ra.fill(i)));
        }
      }
      return absl::OkStatus();
    }
    case proto::TrainTransformConfig::kColorJitter: {
      const proto::ColorJitterConfig& cj = config.color_jitter();
      RETURN_IF_ERROR(InUnitRange("augmentation.color_jitter.brightness", cj.has_brightness(),
                                  cj.brightness()));
      RETURN_IF_ERROR(InUnitRange("augmentation.color_jitter.contrast", cj.has_contrast(),
                                  cj.contrast()));
      return InUnitRange("augmentation.color_jitter.saturation", cj.has_saturation(),
                         cj.saturation());
    }
    case proto::TrainTransformConfig::COLOR_NOT_SET:
      break;
  }
  return Invalid("augmentation.color", "set one of no_color {}, rand_augment, color_jitter");
}

absl::Status ValidateErasing(const proto::TrainTransformConfig& config) {
  switch (config.erasing_case()) {
    case proto::TrainTransformConfig::kNoErasing:
      return absl::OkStatus();
    case proto::TrainTransformConfig::kRandomErasing: {
      const proto::RandomErasingConfig& re = config.random_erasing();
      constexpr char kPrefix[] = "augmentation.random_erasing.";
      RETURN_IF_ERROR(InUnitRange(absl::StrCat(kPrefix, "probability"), re.has_probability(),
                                  re.probability()));
      for (const char* name : {"area_min", "area_max", "aspect_min", "aspect_max", "mode",
                               "min_count", "max_count"}) {
        const auto* field = re.GetDescriptor()->FindFieldByName(name);
        if (!re.GetReflection()->HasField(re, field)) {
          return Invalid(absl::StrCat(kPrefix, name), "must be set");
        }
      }
      if (!(re.area_min() > 0.0 && re.area_min() <= re.area_max() && re.area_max() <= 1.0)) {
        return Invalid(absl::StrCat(kPrefix, "area_min"),
                       absl::StrCat("must satisfy 0 < area_min <= area_max <= 1, got area_min ",
                                    re.area_min(), ", area_max ", re.area_max()));
      }
      if (!(re.aspect_min() > 0.0 && re.aspect_min() <= re.aspect_max())) {
        return Invalid(absl::StrCat(kPrefix, "aspect_min"),
                       absl::StrCat("must satisfy 0 < aspect_min <= aspect_max, got aspect_min ",
                                    re.aspect_min(), ", aspect_max ", re.aspect_max()));
      }
      if (re.mode() == proto::RandomErasingConfig::MODE_UNSPECIFIED) {
        return Invalid(absl::StrCat(kPrefix, "mode"), "must be set (CONST, RAND or PIXEL)");
      }
      if (re.min_count() < 1 || re.max_count() < re.min_count()) {
        return Invalid(absl::StrCat(kPrefix, "min_count"),
                       absl::StrCat("must satisfy 1 <= min_count <= max_count, got min_count ",
                                    re.min_count(), ", max_count ", re.max_count()));
      }
      return absl::OkStatus();
    }
    case proto::TrainTransformConfig::ERASING_NOT_SET:
      break;
  }
  return Invalid("augmentation.erasing", "set one of no_erasing {}, random_erasing");
}

absl::Status ValidateCrop(const proto::TrainTransformConfig& config) {
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

// The checks that do not depend on the model's input.
absl::Status ValidateTrainFields(const proto::TrainTransformConfig& config) {
  if (!config.has_horizontal_flip()) return Invalid("augmentation.horizontal_flip", "must be set");
  RETURN_IF_ERROR(ValidateCrop(config));
  RETURN_IF_ERROR(ValidateColor(config));
  return ValidateErasing(config);
}

}  // namespace

absl::Status ValidateTrainTransform(const proto::TrainTransformConfig& config, int image_size,
                                    int image_channels) {
  RETURN_IF_ERROR(ValidateTrainFields(config));
  if (image_channels > 0 && config.has_rand_augment() &&
      config.rand_augment().fill_size() != image_channels) {
    return Invalid("augmentation.rand_augment.fill",
                   absl::StrCat("must have one value per image channel (", image_channels,
                                "), got ", config.rand_augment().fill_size()));
  }
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

absl::StatusOr<ImageTransform> CreateTrainTransform(const proto::TrainTransformConfig& config,
                                                    const std::vector<float>& mean,
                                                    const std::vector<float>& std) {
  RETURN_IF_ERROR(ValidateTrainFields(config));
  // Colour ops, on uint8 images (the crop-first path) and on float ones (whole-image path: they
  // quantise only when an op fires, as before).
  std::function<Uint8Image(const Uint8Image&, ScalarRandom&)> color;
  std::function<torch::Tensor(const torch::Tensor&, ScalarRandom&)> color_float;
  if (config.has_rand_augment()) {
    RandAugmentOptions options;
    options.params = *ParseRandAugmentSpec(config.rand_augment().spec());
    switch (config.rand_augment().interpolation()) {
      case proto::RandAugmentConfig::BILINEAR:
        options.interpolation = RandAugmentInterpolation::kBilinear;
        break;
      case proto::RandAugmentConfig::RANDOM:
        options.interpolation = RandAugmentInterpolation::kRandom;
        break;
      default:
        options.interpolation = RandAugmentInterpolation::kBicubic;
    }
    for (int v : config.rand_augment().fill()) options.fill.push_back(static_cast<uint8_t>(v));
    color = [options](const Uint8Image& image, ScalarRandom& r) {
      // User data, not a programmer error: thrown so the batch loader reports it as a Status.
      TORCH_CHECK(image.channels == static_cast<int64_t>(options.fill.size()), "image with ",
                  image.channels, " channels has another channel count than ",
                  "augmentation.rand_augment.fill (", options.fill.size(), " values)");
      return RandAugment(image, options, r);
    };
    color_float = [options](const torch::Tensor& image, ScalarRandom& r) {
      TORCH_CHECK(image.size(0) == static_cast<int64_t>(options.fill.size()), "image of shape ",
                  image.sizes(), " has another channel count than augmentation.rand_augment.fill (",
                  options.fill.size(), " values)");
      return RandAugment(image, options, r);
    };
  } else if (config.has_color_jitter()) {
    const ColorJitterOptions options = {config.color_jitter().brightness(),
                                        config.color_jitter().contrast(),
                                        config.color_jitter().saturation()};
    color = [options](const Uint8Image& image, ScalarRandom& r) {
      return ColorJitter(image, options, r);
    };
    color_float = [options](const torch::Tensor& image, ScalarRandom& r) {
      return ColorJitter(image, options, r);
    };
  }
  std::function<torch::Tensor(const torch::Tensor&, ScalarRandom&)> erase;
  if (config.has_random_erasing()) {
    const proto::RandomErasingConfig& re = config.random_erasing();
    if (mean.empty() || mean.size() != std.size()) {
      return Invalid("augmentation.random_erasing",
                     "needs the model's normalisation mean and std (its fill is normalised)");
    }
    RandomErasingOptions options;
    options.probability = re.probability();
    options.area_min = re.area_min();
    options.area_max = re.area_max();
    options.aspect_min = re.aspect_min();
    options.aspect_max = re.aspect_max();
    options.mode = re.mode() == proto::RandomErasingConfig::PIXEL
                       ? RandomErasingOptions::Mode::kPixel
                   : re.mode() == proto::RandomErasingConfig::RAND
                       ? RandomErasingOptions::Mode::kRand
                       : RandomErasingOptions::Mode::kConst;
    options.min_count = re.min_count();
    options.max_count = re.max_count();
    options.mean = mean;
    options.std = std;
    erase = [options](const torch::Tensor& image, ScalarRandom& r) {
      TORCH_CHECK(image.size(0) == static_cast<int64_t>(options.mean.size()), "image of shape ",
                  image.sizes(), " has another channel count than the model's normalisation");
      return RandomErasing(image, options, r);
    };
  }
  const bool flip = config.horizontal_flip();
  // Crop and flip draw from a LibTorch generator (their stream predates the colour ops); the
  // colour and erasing draws from their own portable streams of the same seed.
  auto erase_last = [erase](torch::Tensor out, uint64_t seed) {
    if (erase) {
      ScalarRandom random(DeriveSeed(seed, {2}));
      out = erase(out, random);
    }
    return out;
  };
  if (config.has_random_resized_crop()) {
    // Crop-first, all in uint8 until erasing: the loader decodes only the sampled box.
    const proto::RandomResizedCrop& rrc = config.random_resized_crop();
    const RandomResizedCropOptions options = {rrc.size(), rrc.scale_min(), rrc.scale_max(),
                                              rrc.ratio_min(), rrc.ratio_max()};
    auto region = [options](int64_t height, int64_t width, uint64_t seed) {
      at::Generator generator = MakeCpuGenerator(seed);
      return SampleResizedCropBox(height, width, options, generator);
    };
    auto cropped = [options, flip, color, erase_last](const torch::Tensor& crop, int64_t height,
                                                      int64_t width, uint64_t seed) {
      // The same draws as `region` (so the flip sees the generator state after them).
      at::Generator generator = MakeCpuGenerator(seed);
      const CropBox box = SampleResizedCropBox(height, width, options, generator);
      CHECK(crop.size(1) == box.height && crop.size(2) == box.width)
          << "region " << crop.sizes() << " is not the sampled box";
      Uint8Image out = ResizeCrop(Uint8ImageFromBytes(crop), options);
      if (flip) out = RandomHorizontalFlip(out, generator);
      if (color) {
        ScalarRandom random(DeriveSeed(seed, {1}));
        out = color(out, random);
      }
      return erase_last(ToFloatTensor(out), seed);
    };
    return ImageTransform::CropFirst(region, cropped);
  }
  const int64_t padding = config.pad_crop().padding();
  return ImageTransform([padding, flip, color_float, erase_last](const torch::Tensor& image,
                                                                  uint64_t seed) {
    at::Generator generator = MakeCpuGenerator(seed);
    torch::Tensor out = PadCrop(image, padding, generator);
    if (flip) out = RandomHorizontalFlip(out, generator);
    if (color_float) {
      ScalarRandom random(DeriveSeed(seed, {1}));
      out = color_float(out, random);
    }
    return erase_last(out, seed);
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
