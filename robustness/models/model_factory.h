// Builds the zoo's classifiers from a proto::ModelConfig (PAPER.md 3.12): the one place that maps
// the config's oneof to ResNet, DeiT or Hybrid-DeiT, and that range-checks model configs.
//
// Example:
//   RETURN_IF_ERROR(ValidateModelConfig(config.model()));   // early, before any tensor work
//   torch::manual_seed(DeriveSeed(seed, {kInitStream}));    // the caller seeds initialisation
//   ASSIGN_OR_RETURN(ImageClassifier model, CreateModel(config.model()));
//   LOG(INFO) << ArchitectureName(config.model()) << ", " << CountParameters(*model) << " params";
#ifndef ROBUSTNESS_MODELS_MODEL_FACTORY_H_
#define ROBUSTNESS_MODELS_MODEL_FACTORY_H_

#include <cstdint>
#include <string>

#include <torch/nn/module.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "robustness/models/image_classifier.h"
#include "robustness/proto/model.pb.h"

namespace robustness {

// Checks every field of `config` that the models consume, without allocating tensors. Returns
// InvalidArgument naming the field path and the offending value, e.g.
//   "model.deit.num_heads: embed_dim 96 is not divisible by num_heads 5".
// Required (all must be set): num_classes >= 1, in_channels >= 1, image_size >= 1,
// normalization with exactly in_channels means and stds, each std > 0 and every value finite,
// and one architecture:
//   resnet: block, stem and activation not *_UNSPECIFIED; stage_depths non-empty, each >= 1;
//           base_width >= 1; norm_layer chosen, ghost_batch_norm.virtual_batch_size >= 1.
//   deit:   patch_size >= 1 dividing image_size; embed_dim >= 1; depth >= 1; num_heads >= 1
//           dividing embed_dim; mlp_ratio > 0 (finite) with int(embed_dim * mlp_ratio) >= 1;
//           init not INIT_UNSPECIFIED; drop_path_rate in [0, 1); distillation_token set.
//   hybrid_deit: backbone and encoder set; backbone as resnet (errors name
//           "model.hybrid_deit.backbone.stage_depths[1]" etc.); encoder.patch_size equal to the
//           backbone's total stride (4 after the IMAGENET stem or 1 after SMALL, times 2 for each
//           stage after the first: 16 for ResNet-18 up to layer3), then encoder as deit.
absl::Status ValidateModelConfig(const proto::ModelConfig& config);

// Validates `config` (same errors as ValidateModelConfig), then builds the model on the CPU in
// train() mode. Initialisation draws from LibTorch's default CPU generator: the caller seeds it
// first (torch::manual_seed) for reproducible weights. Input/output contract: image_classifier.h,
// with [N, in_channels, image_size, image_size] images (ResNets accept any size). resnet gives a
// ResNetImpl (resnet.h); deit and hybrid_deit give a DeiTImpl (deit.h; hybrid_deit sets its
// hybrid_backbone), whose forward_heads() serves distillation training.
absl::StatusOr<ImageClassifier> CreateModel(const proto::ModelConfig& config);

// Number of scalar parameters (trainable tensors, recursively; buffers such as BN running
// statistics and the normalisation constants are not counted). E.g. 22,050,664 for DeiT-S.
int64_t CountParameters(const torch::nn::Module& module);

// A short human-readable name for logs and result tables, e.g.
//   "ResNet[basic 2-2-2-2, w16, small stem, relu]", "ResNet[bottleneck 3-4-6-3, w64, imagenet
//   stem, gelu, ghost bn 64]", "DeiT[p7 d96 x6 h3]", "DeiT[p16 d384 x12 h6 drop-path0.1
//   distilled]", "HybridDeiT[resnet basic 2-2-2 -> d256 x12 h4]".
// Only departures from the paper's defaults are appended (ghost BN; mlp_ratio not 4,
// " zero-init", " drop-path<rate>", " distilled"), so plain-BN / TIMM-init / no-drop-path /
// no-token models keep their names. The hybrid's backbone lists what differs from ResNet-18's
// width 64, IMAGENET stem and ReLU ("resnet basic 2-2-2, w32, small stem, gelu"); its patch size
// is the backbone's stride and is not printed.
// Unset or unspecified fields print as "?"; it never fails, so it can describe invalid configs.
std::string ArchitectureName(const proto::ModelConfig& config);

}  // namespace robustness

#endif  // ROBUSTNESS_MODELS_MODEL_FACTORY_H_
