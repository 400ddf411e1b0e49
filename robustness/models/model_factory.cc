#include "robustness/models/model_factory.h"

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <glog/logging.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "robustness/base/status_macros.h"
#include "robustness/models/deit.h"
#include "robustness/models/normalize.h"
#include "robustness/models/resnet.h"
#include "robustness/models/vgg.h"

namespace robustness {
namespace {

using proto::DeiTConfig;
using proto::HybridDeiTConfig;
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

// `prefix` is the config's path below "model.", e.g. "resnet" or "hybrid_deit.backbone".
absl::Status ValidateResNet(const ResNetConfig& resnet, const std::string& prefix) {
  auto field = [&](absl::string_view name) { return absl::StrCat(prefix, ".", name); };
  if (resnet.block() == ResNetConfig::BLOCK_UNSPECIFIED) {
    return Invalid(field("block"), "is not set (BASIC or BOTTLENECK)");
  }
  if (resnet.stage_depths_size() == 0) {
    return Invalid(field("stage_depths"), "needs at least one stage");
  }
  for (int i = 0; i < resnet.stage_depths_size(); ++i) {
    if (resnet.stage_depths(i) < 1) {
      return Invalid(field(absl::StrCat("stage_depths[", i, "]")),
                     absl::StrCat("must be >= 1, got ", resnet.stage_depths(i)));
    }
  }
  RETURN_IF_ERROR(CheckPositive(resnet.has_base_width(), resnet.base_width(), field("base_width")));
  if (resnet.stem() == ResNetConfig::STEM_UNSPECIFIED) {
    return Invalid(field("stem"), "is not set (IMAGENET or SMALL)");
  }
  if (resnet.activation() == proto::ACTIVATION_UNSPECIFIED) {
    return Invalid(field("activation"), "is not set (RELU or GELU)");
  }
  switch (resnet.norm_layer_case()) {
    case ResNetConfig::kBatchNorm:
      return absl::OkStatus();
    case ResNetConfig::kGhostBatchNorm:
      return CheckPositive(resnet.ghost_batch_norm().has_virtual_batch_size(),
                           resnet.ghost_batch_norm().virtual_batch_size(),
                           field("ghost_batch_norm.virtual_batch_size"));
    case ResNetConfig::NORM_LAYER_NOT_SET:
      break;
  }
  return Invalid(field("norm_layer"), "is not set (batch_norm or ghost_batch_norm)");
}

absl::Status ValidateDeiT(const DeiTConfig& deit, int32_t image_size, const std::string& prefix) {
  auto field = [&](absl::string_view name) { return absl::StrCat(prefix, ".", name); };
  RETURN_IF_ERROR(CheckPositive(deit.has_patch_size(), deit.patch_size(), field("patch_size")));
  if (image_size % deit.patch_size() != 0) {
    return Invalid(field("patch_size"),
                   absl::StrCat("image_size ", image_size, " is not divisible by patch_size ",
                                deit.patch_size()));
  }
  RETURN_IF_ERROR(CheckPositive(deit.has_embed_dim(), deit.embed_dim(), field("embed_dim")));
  RETURN_IF_ERROR(CheckPositive(deit.has_depth(), deit.depth(), field("depth")));
  RETURN_IF_ERROR(CheckPositive(deit.has_num_heads(), deit.num_heads(), field("num_heads")));
  if (deit.embed_dim() % deit.num_heads() != 0) {
    return Invalid(field("num_heads"),
                   absl::StrCat("embed_dim ", deit.embed_dim(), " is not divisible by num_heads ",
                                deit.num_heads()));
  }
  if (!deit.has_mlp_ratio()) return Invalid(field("mlp_ratio"), "is not set");
  if (!(deit.mlp_ratio() > 0) || !std::isfinite(deit.mlp_ratio())) {
    return Invalid(field("mlp_ratio"),
                   absl::StrCat("must be finite and > 0, got ", deit.mlp_ratio()));
  }
  if (static_cast<int64_t>(deit.embed_dim() * deit.mlp_ratio()) < 1) {
    return Invalid(field("mlp_ratio"), absl::StrCat("embed_dim ", deit.embed_dim(), " * mlp_ratio ",
                                                    deit.mlp_ratio(), " gives an empty MLP"));
  }
  if (deit.init() == DeiTConfig::INIT_UNSPECIFIED) {
    return Invalid(field("init"), "is not set (TIMM or ZERO_RESIDUAL_PROJECTIONS)");
  }
  if (!deit.has_drop_path_rate()) return Invalid(field("drop_path_rate"), "is not set");
  if (!(deit.drop_path_rate() >= 0 && deit.drop_path_rate() < 1)) {
    return Invalid(field("drop_path_rate"),
                   absl::StrCat("must be in [0, 1), got ", deit.drop_path_rate()));
  }
  if (!deit.has_distillation_token()) return Invalid(field("distillation_token"), "is not set");
  return absl::OkStatus();
}

// Total downsampling of a (validated) ResNet trunk, as ResNetTrunkImpl::stride(); saturates at
// 2^40, far above any patch_size.
int64_t TrunkStride(const ResNetConfig& backbone) {
  int64_t stride = backbone.stem() == ResNetConfig::IMAGENET ? 4 : 1;
  for (int i = 1; i < backbone.stage_depths_size() && stride < (int64_t{1} << 40); ++i) stride *= 2;
  return stride;
}

absl::Status ValidateHybridDeiT(const HybridDeiTConfig& hybrid, int32_t image_size) {
  if (!hybrid.has_backbone()) return Invalid("hybrid_deit.backbone", "is not set");
  RETURN_IF_ERROR(ValidateResNet(hybrid.backbone(), "hybrid_deit.backbone"));
  if (!hybrid.has_encoder()) return Invalid("hybrid_deit.encoder", "is not set");
  const DeiTConfig& encoder = hybrid.encoder();
  RETURN_IF_ERROR(CheckPositive(encoder.has_patch_size(), encoder.patch_size(),
                                "hybrid_deit.encoder.patch_size"));
  const int64_t stride = TrunkStride(hybrid.backbone());
  if (encoder.patch_size() != stride) {
    const bool imagenet = hybrid.backbone().stem() == ResNetConfig::IMAGENET;
    return Invalid(
        "hybrid_deit.encoder.patch_size",
        absl::StrCat("must equal the backbone's total stride ", stride, " (",
                     imagenet ? "IMAGENET stem /4" : "SMALL stem /1", ", then /2 in each of the ",
                     hybrid.backbone().stage_depths_size() - 1,
                     " stages after the first; e.g. 16 for ResNet-18 up to layer3 with the "
                     "IMAGENET stem), got ",
                     encoder.patch_size()));
  }
  return ValidateDeiT(encoder, image_size, "hybrid_deit.encoder");
}

NormalizeOptions ToNormalizeOptions(const proto::Normalization& n) {
  return NormalizeOptions(std::vector<double>(n.mean().begin(), n.mean().end()),
                          std::vector<double>(n.std().begin(), n.std().end()));
}

ResNetOptions ToResNetOptions(const ResNetConfig& r, const ModelConfig& config) {
  return ResNetOptions(config.num_classes(),
                       std::vector<int64_t>(r.stage_depths().begin(), r.stage_depths().end()))
      .block(r.block() == ResNetConfig::BASIC ? ResNetOptions::Block::kBasic
                                              : ResNetOptions::Block::kBottleneck)
      .base_width(r.base_width())
      .stem(r.stem() == ResNetConfig::SMALL ? ResNetOptions::Stem::kSmall
                                            : ResNetOptions::Stem::kImageNet)
      .activation(r.activation() == proto::GELU ? ResNetOptions::Activation::kGELU
                                                : ResNetOptions::Activation::kReLU)
      .norm(r.has_ghost_batch_norm() ? ResNetOptions::Norm::kGhostBatchNorm
                                     : ResNetOptions::Norm::kBatchNorm)
      .virtual_batch_size(r.has_ghost_batch_norm() ? r.ghost_batch_norm().virtual_batch_size() : 0)
      .in_channels(config.in_channels())
      .normalize(ToNormalizeOptions(config.normalization()));
}

DeiTOptions ToDeiTOptions(const DeiTConfig& d, const ModelConfig& config) {
  return DeiTOptions(config.num_classes())
      .image_size(config.image_size())
      .patch_size(d.patch_size())
      .in_channels(config.in_channels())
      .embed_dim(d.embed_dim())
      .depth(d.depth())
      .num_heads(d.num_heads())
      .mlp_ratio(d.mlp_ratio())
      .zero_init_residual_projections(d.init() == DeiTConfig::ZERO_RESIDUAL_PROJECTIONS)
      .drop_path_rate(d.drop_path_rate())
      .distillation_token(d.distillation_token())
      .normalize(ToNormalizeOptions(config.normalization()));
}

absl::Status ValidateVGG(const proto::VGGConfig& v, int64_t image_size) {
  if (v.stage_convs_size() == 0) return Invalid("vgg.stage_convs", "is empty");
  if (v.stage_widths_size() != v.stage_convs_size()) {
    return Invalid("vgg.stage_widths", absl::StrCat("has ", v.stage_widths_size(),
                                                    " entries, stage_convs has ",
                                                    v.stage_convs_size()));
  }
  for (int i = 0; i < v.stage_convs_size(); ++i) {
    if (v.stage_convs(i) < 1) {
      return Invalid(absl::StrCat("vgg.stage_convs[", i, "]"),
                     absl::StrCat("must be >= 1, got ", v.stage_convs(i)));
    }
    if (v.stage_widths(i) < 1) {
      return Invalid(absl::StrCat("vgg.stage_widths[", i, "]"),
                     absl::StrCat("must be >= 1, got ", v.stage_widths(i)));
    }
  }
  if (v.stage_convs_size() > 30 || image_size < (int64_t{1} << v.stage_convs_size())) {
    return Invalid("vgg.stage_convs",
                   absl::StrCat(v.stage_convs_size(), " stages halve the image ",
                                v.stage_convs_size(), " times (rounding down); image_size ",
                                image_size, " is smaller than 2^", v.stage_convs_size()));
  }
  RETURN_IF_ERROR(CheckPositive(v.has_pool_size(), v.pool_size(), "vgg.pool_size"));
  RETURN_IF_ERROR(
      CheckPositive(v.has_classifier_width(), v.classifier_width(), "vgg.classifier_width"));
  if (!v.has_dropout()) return Invalid("vgg.dropout", "is not set");
  if (!(v.dropout() >= 0 && v.dropout() < 1)) {
    return Invalid("vgg.dropout", absl::StrCat("must be in [0, 1), got ", v.dropout()));
  }
  return absl::OkStatus();
}

VGGOptions ToVGGOptions(const proto::VGGConfig& v, const ModelConfig& config) {
  return VGGOptions(config.num_classes(), config.in_channels())
      .stage_convs(std::vector<int64_t>(v.stage_convs().begin(), v.stage_convs().end()))
      .stage_widths(std::vector<int64_t>(v.stage_widths().begin(), v.stage_widths().end()))
      .pool_size(v.pool_size())
      .classifier_width(v.classifier_width())
      .dropout(v.dropout())
      .normalize(ToNormalizeOptions(config.normalization()));
}

// `config` has passed ValidateModelConfig.
ImageClassifier Build(const ModelConfig& config) {
  if (config.has_resnet()) {
    return std::make_shared<ResNetImpl>(ToResNetOptions(config.resnet(), config));
  }
  if (config.has_deit()) return std::make_shared<DeiTImpl>(ToDeiTOptions(config.deit(), config));
  if (config.has_vgg()) return std::make_shared<VGGImpl>(ToVGGOptions(config.vgg(), config));
  CHECK(config.has_hybrid_deit()) << "unvalidated ModelConfig without an architecture";
  return std::make_shared<DeiTImpl>(
      ToDeiTOptions(config.hybrid_deit().encoder(), config)
          .hybrid_backbone(ToResNetOptions(config.hybrid_deit().backbone(), config)));
}

template <typename T>
std::string OrUnknown(bool has, T value) {
  return has ? absl::StrCat(value) : std::string("?");
}

const char* BlockName(const ResNetConfig& r) {
  return r.block() == ResNetConfig::BASIC        ? "basic"
         : r.block() == ResNetConfig::BOTTLENECK ? "bottleneck"
                                                 : "?";
}

const char* StemName(const ResNetConfig& r) {
  return r.stem() == ResNetConfig::IMAGENET ? "imagenet"
         : r.stem() == ResNetConfig::SMALL  ? "small"
                                            : "?";
}

const char* ActivationName(const ResNetConfig& r) {
  return r.activation() == proto::RELU ? "relu" : r.activation() == proto::GELU ? "gelu" : "?";
}

// "" for plain BatchNorm (the names of existing results stay valid), else ", ghost bn 64".
std::string NormSuffix(const ResNetConfig& r) {
  switch (r.norm_layer_case()) {
    case ResNetConfig::kBatchNorm:
      return "";
    case ResNetConfig::kGhostBatchNorm:
      return absl::StrCat(", ghost bn ", OrUnknown(r.ghost_batch_norm().has_virtual_batch_size(),
                                                   r.ghost_batch_norm().virtual_batch_size()));
    case ResNetConfig::NORM_LAYER_NOT_SET:
      break;
  }
  return ", ? norm";
}

// "d96 x6 h3" plus what differs from the paper's encoder (mlp ratio 4, timm init, no drop path,
// no distillation token).
std::string EncoderName(const DeiTConfig& d) {
  std::string name = absl::StrCat("d", OrUnknown(d.has_embed_dim(), d.embed_dim()), " x",
                                  OrUnknown(d.has_depth(), d.depth()), " h",
                                  OrUnknown(d.has_num_heads(), d.num_heads()));
  if (d.has_mlp_ratio() && d.mlp_ratio() != 4.0) absl::StrAppend(&name, " mlp", d.mlp_ratio());
  if (d.init() == DeiTConfig::ZERO_RESIDUAL_PROJECTIONS) absl::StrAppend(&name, " zero-init");
  if (d.init() == DeiTConfig::INIT_UNSPECIFIED) absl::StrAppend(&name, " init?");
  if (!d.has_drop_path_rate() || d.drop_path_rate() != 0.0) {
    absl::StrAppend(&name, " drop-path", OrUnknown(d.has_drop_path_rate(), d.drop_path_rate()));
  }
  if (!d.has_distillation_token()) absl::StrAppend(&name, " distilled?");
  if (d.distillation_token()) absl::StrAppend(&name, " distilled");
  return name;
}

}  // namespace

absl::Status ValidateModelConfig(const ModelConfig& config) {
  RETURN_IF_ERROR(CheckPositive(config.has_num_classes(), config.num_classes(), "num_classes"));
  RETURN_IF_ERROR(CheckPositive(config.has_in_channels(), config.in_channels(), "in_channels"));
  RETURN_IF_ERROR(CheckPositive(config.has_image_size(), config.image_size(), "image_size"));
  RETURN_IF_ERROR(ValidateNormalization(config));
  switch (config.architecture_case()) {
    case ModelConfig::kResnet:
      return ValidateResNet(config.resnet(), "resnet");
    case ModelConfig::kDeit:
      return ValidateDeiT(config.deit(), config.image_size(), "deit");
    case ModelConfig::kHybridDeit:
      return ValidateHybridDeiT(config.hybrid_deit(), config.image_size());
    case ModelConfig::kVgg:
      return ValidateVGG(config.vgg(), config.image_size());
    case ModelConfig::ARCHITECTURE_NOT_SET:
      break;
  }
  return Invalid("architecture", "none of resnet, deit, hybrid_deit or vgg is set");
}

absl::StatusOr<ImageClassifier> CreateModel(const ModelConfig& config) {
  RETURN_IF_ERROR(ValidateModelConfig(config));
  return Build(config);
}

int64_t CountParameters(const torch::nn::Module& module) {
  int64_t total = 0;
  for (const torch::Tensor& parameter : module.parameters(/*recurse=*/true)) {
    total += parameter.numel();
  }
  return total;
}

std::string ArchitectureName(const ModelConfig& config) {
  if (config.has_resnet()) {
    const ResNetConfig& r = config.resnet();
    return absl::StrCat("ResNet[", BlockName(r), " ", absl::StrJoin(r.stage_depths(), "-"), ", w",
                        OrUnknown(r.has_base_width(), r.base_width()), ", ", StemName(r), " stem, ",
                        ActivationName(r), NormSuffix(r), "]");
  }
  if (config.has_deit()) {
    const DeiTConfig& d = config.deit();
    return absl::StrCat("DeiT[p", OrUnknown(d.has_patch_size(), d.patch_size()), " ",
                        EncoderName(d), "]");
  }
  if (config.has_hybrid_deit()) {
    // The backbone is described by what differs from ResNet-18's layout (width 64, IMAGENET stem,
    // ReLU, BN), the encoder without patch_size, which the backbone's stride fixes.
    const ResNetConfig& r = config.hybrid_deit().backbone();
    std::string backbone =
        absl::StrCat("resnet ", BlockName(r), " ", absl::StrJoin(r.stage_depths(), "-"));
    if (!r.has_base_width() || r.base_width() != 64) {
      absl::StrAppend(&backbone, ", w", OrUnknown(r.has_base_width(), r.base_width()));
    }
    if (r.stem() != ResNetConfig::IMAGENET) absl::StrAppend(&backbone, ", ", StemName(r), " stem");
    if (r.activation() != proto::RELU) absl::StrAppend(&backbone, ", ", ActivationName(r));
    return absl::StrCat("HybridDeiT[", backbone, NormSuffix(r), " -> ",
                        EncoderName(config.hybrid_deit().encoder()), "]");
  }
  if (config.has_vgg()) {
    // "VGG[2-2-4-4-4, w64-128-256-512-512, fc4096]": VGG-19.
    const proto::VGGConfig& v = config.vgg();
    return absl::StrCat("VGG[", absl::StrJoin(v.stage_convs(), "-"), ", w",
                        absl::StrJoin(v.stage_widths(), "-"), ", fc",
                        OrUnknown(v.has_classifier_width(), v.classifier_width()), "]");
  }
  return "UnknownArchitecture";
}

}  // namespace robustness
