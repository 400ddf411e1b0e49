#include "robustness/models/model_factory.h"

#include <cmath>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "robustness/base/status_macros.h"
#include "robustness/models/deit.h"
#include "robustness/models/normalize.h"
#include "robustness/models/resnet.h"

namespace robustness {
namespace {

using proto::DeiTConfig;
using proto::ModelConfig;
using proto::ResNetConfig;

absl::Status Invalid(absl::string_view field, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("model.", field, ": ", message));
}

// `value` must be set (has) and >= 1.
absl::Status CheckPositive(bool has, int64_t value, absl::string_view field) {
  if (!has) return Invalid(field, "is not set");
  if (value < 1) return Invalid(field, absl::StrCat("must be >= 1, got ", value));
  return absl::OkStatus();
}

absl::Status ValidateNormalization(const ModelConfig& config) {
  if (!config.has_normalization()) return Invalid("normalization", "is not set");
  const proto::Normalization& n = config.normalization();
  if (n.mean_size() != config.in_channels()) {
    return Invalid(
        "normalization.mean",
        absl::StrCat("has ", n.mean_size(), " values, in_channels is ", config.in_channels()));
  }
  if (n.std_size() != config.in_channels()) {
    return Invalid(
        "normalization.std",
        absl::StrCat("has ", n.std_size(), " values, in_channels is ", config.in_channels()));
  }
  for (int i = 0; i < n.mean_size(); ++i) {
    if (!std::isfinite(n.mean(i))) {
      return Invalid(absl::StrCat("normalization.mean[", i, "]"),
                     absl::StrCat("must be finite, got ", n.mean(i)));
    }
    if (!(n.std(i) > 0) || !std::isfinite(n.std(i))) {
      return Invalid(absl::StrCat("normalization.std[", i, "]"),
                     absl::StrCat("must be finite and > 0, got ", n.std(i)));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateResNet(const ResNetConfig& resnet) {
  if (resnet.block() == ResNetConfig::BLOCK_UNSPECIFIED) {
    return Invalid("resnet.block", "is not set (BASIC or BOTTLENECK)");
  }
  if (resnet.stage_depths_size() == 0) {
    return Invalid("resnet.stage_depths", "needs at least one stage");
  }
  for (int i = 0; i < resnet.stage_depths_size(); ++i) {
    if (resnet.stage_depths(i) < 1) {
      return Invalid(absl::StrCat("resnet.stage_depths[", i, "]"),
                     absl::StrCat("must be >= 1, got ", resnet.stage_depths(i)));
    }
  }
  RETURN_IF_ERROR(CheckPositive(resnet.has_base_width(), resnet.base_width(), "resnet.base_width"));
  if (resnet.stem() == ResNetConfig::STEM_UNSPECIFIED) {
    return Invalid("resnet.stem", "is not set (IMAGENET or SMALL)");
  }
  if (resnet.activation() == proto::ACTIVATION_UNSPECIFIED) {
    return Invalid("resnet.activation", "is not set (RELU or GELU)");
  }
  return absl::OkStatus();
}

absl::Status ValidateDeiT(const DeiTConfig& deit, int32_t image_size) {
  RETURN_IF_ERROR(CheckPositive(deit.has_patch_size(), deit.patch_size(), "deit.patch_size"));
  if (image_size % deit.patch_size() != 0) {
    return Invalid("deit.patch_size",
                   absl::StrCat("image_size ", image_size, " is not divisible by patch_size ",
                                deit.patch_size()));
  }
  RETURN_IF_ERROR(CheckPositive(deit.has_embed_dim(), deit.embed_dim(), "deit.embed_dim"));
  RETURN_IF_ERROR(CheckPositive(deit.has_depth(), deit.depth(), "deit.depth"));
  RETURN_IF_ERROR(CheckPositive(deit.has_num_heads(), deit.num_heads(), "deit.num_heads"));
  if (deit.embed_dim() % deit.num_heads() != 0) {
    return Invalid("deit.num_heads",
                   absl::StrCat("embed_dim ", deit.embed_dim(), " is not divisible by num_heads ",
                                deit.num_heads()));
  }
  if (!deit.has_mlp_ratio()) return Invalid("deit.mlp_ratio", "is not set");
  if (!(deit.mlp_ratio() > 0) || !std::isfinite(deit.mlp_ratio())) {
    return Invalid("deit.mlp_ratio",
                   absl::StrCat("must be finite and > 0, got ", deit.mlp_ratio()));
  }
  if (static_cast<int64_t>(deit.embed_dim() * deit.mlp_ratio()) < 1) {
    return Invalid("deit.mlp_ratio", absl::StrCat("embed_dim ", deit.embed_dim(), " * mlp_ratio ",
                                                  deit.mlp_ratio(), " gives an empty MLP"));
  }
  return absl::OkStatus();
}

NormalizeOptions ToNormalizeOptions(const proto::Normalization& n) {
  return NormalizeOptions(std::vector<double>(n.mean().begin(), n.mean().end()),
                          std::vector<double>(n.std().begin(), n.std().end()));
}

ImageClassifier BuildResNet(const ModelConfig& config) {
  const ResNetConfig& r = config.resnet();
  return std::make_shared<ResNetImpl>(
      ResNetOptions(config.num_classes(),
                    std::vector<int64_t>(r.stage_depths().begin(), r.stage_depths().end()))
          .block(r.block() == ResNetConfig::BASIC ? ResNetOptions::Block::kBasic
                                                  : ResNetOptions::Block::kBottleneck)
          .base_width(r.base_width())
          .stem(r.stem() == ResNetConfig::SMALL ? ResNetOptions::Stem::kSmall
                                                : ResNetOptions::Stem::kImageNet)
          .activation(r.activation() == proto::GELU ? ResNetOptions::Activation::kGELU
                                                    : ResNetOptions::Activation::kReLU)
          .in_channels(config.in_channels())
          .normalize(ToNormalizeOptions(config.normalization())));
}

ImageClassifier BuildDeiT(const ModelConfig& config) {
  const DeiTConfig& d = config.deit();
  return std::make_shared<DeiTImpl>(DeiTOptions(config.num_classes())
                                        .image_size(config.image_size())
                                        .patch_size(d.patch_size())
                                        .in_channels(config.in_channels())
                                        .embed_dim(d.embed_dim())
                                        .depth(d.depth())
                                        .num_heads(d.num_heads())
                                        .mlp_ratio(d.mlp_ratio())
                                        .normalize(ToNormalizeOptions(config.normalization())));
}

}  // namespace

absl::Status ValidateModelConfig(const ModelConfig& config) {
  RETURN_IF_ERROR(CheckPositive(config.has_num_classes(), config.num_classes(), "num_classes"));
  RETURN_IF_ERROR(CheckPositive(config.has_in_channels(), config.in_channels(), "in_channels"));
  RETURN_IF_ERROR(CheckPositive(config.has_image_size(), config.image_size(), "image_size"));
  RETURN_IF_ERROR(ValidateNormalization(config));
  switch (config.architecture_case()) {
    case ModelConfig::kResnet:
      return ValidateResNet(config.resnet());
    case ModelConfig::kDeit:
      return ValidateDeiT(config.deit(), config.image_size());
    case ModelConfig::ARCHITECTURE_NOT_SET:
      break;
  }
  return Invalid("architecture", "neither resnet nor deit is set");
}

absl::StatusOr<ImageClassifier> CreateModel(const ModelConfig& config) {
  RETURN_IF_ERROR(ValidateModelConfig(config));
  return config.has_resnet() ? BuildResNet(config) : BuildDeiT(config);
}

int64_t CountParameters(const torch::nn::Module& module) {
  int64_t total = 0;
  for (const torch::Tensor& parameter : module.parameters(/*recurse=*/true)) {
    total += parameter.numel();
  }
  return total;
}

std::string ArchitectureName(const ModelConfig& config) {
  auto or_unknown = [](bool has, int64_t value) {
    return has ? absl::StrCat(value) : std::string("?");
  };
  if (config.has_resnet()) {
    const ResNetConfig& r = config.resnet();
    const char* block = r.block() == ResNetConfig::BASIC        ? "basic"
                        : r.block() == ResNetConfig::BOTTLENECK ? "bottleneck"
                                                                : "?";
    const char* stem = r.stem() == ResNetConfig::IMAGENET ? "imagenet"
                       : r.stem() == ResNetConfig::SMALL  ? "small"
                                                          : "?";
    const char* activation = r.activation() == proto::RELU   ? "relu"
                             : r.activation() == proto::GELU ? "gelu"
                                                             : "?";
    return absl::StrCat("ResNet[", block, " ", absl::StrJoin(r.stage_depths(), "-"), ", w",
                        or_unknown(r.has_base_width(), r.base_width()), ", ", stem, " stem, ",
                        activation, "]");
  }
  if (config.has_deit()) {
    const DeiTConfig& d = config.deit();
    std::string name = absl::StrCat("DeiT[p", or_unknown(d.has_patch_size(), d.patch_size()), " d",
                                    or_unknown(d.has_embed_dim(), d.embed_dim()), " x",
                                    or_unknown(d.has_depth(), d.depth()), " h",
                                    or_unknown(d.has_num_heads(), d.num_heads()));
    if (d.has_mlp_ratio() && d.mlp_ratio() != 4.0) absl::StrAppend(&name, " mlp", d.mlp_ratio());
    return name + "]";
  }
  return "UnknownArchitecture";
}

}  // namespace robustness
