// ResNets as in torchvision v1.5 (PAPER.md 3.12): the CNN side of the paper's comparison, and
// ResNetTrunk, the same network without Normalize, pool and fc: Hybrid-DeiT's feature extractor.
//
// Layout: Normalize -> stem -> stages -> adaptive average pool -> fc.
//   stem IMAGENET: 7x7 stride-2 conv (pad 3), BN, act, 3x3 stride-2 max-pool (pad 1); for 224 px.
//   stem SMALL:    3x3 stride-1 conv (pad 1), BN, act, no pool; for 28-64 px inputs.
//   stage i (0-based) has stage_depths[i] blocks of width base_width * 2^i; its first block has
//   stride 2 when i > 0, and a downsample shortcut (1x1 conv with that stride + BN) whenever the
//   block changes the spatial size or the channel count.
//   BASIC block:      3x3 conv (stride), BN, act, 3x3 conv, BN; (+ shortcut), act. Expansion 1.
//   BOTTLENECK block: 1x1 conv, BN, act, 3x3 conv (stride, the v1.5 placement), BN, act,
//                     1x1 conv to 4x width, BN; (+ shortcut), act. Expansion 4.
// All convs are bias-free. The activation (ReLU, or exact erf GELU for the paper's ResNet-GELU)
// is used everywhere: stem, inside blocks and after the residual add. "BN" is BatchNorm2d, or
// GhostBatchNorm2d (ghost_batch_norm.h; the paper's adversarially trained ResNets, PAPER.md 3.6)
// everywhere when norm is kGhostBatchNorm; both have the same parameter and buffer names.
//
// Initialisation (torchvision): convs kaiming_normal_(fan_out, relu gain) also for GELU models,
// BN weight 1 / bias 0 (no zero-init of the last BN in a block), fc LibTorch's nn::Linear
// default, which is torchvision's (kaiming_uniform a=sqrt(5), bias U(+-1/sqrt(fan_in))). It
// consumes LibTorch's default CPU generator: seed it before construction.
//
// Parameter names follow torchvision (conv1, bn1, layer1.0.conv1, layer2.0.downsample.0, fc, ...)
// so torchvision state dicts map one to one; the normalisation buffers sit under "normalize".
//
// Parameter counts at 3 channels and 1000 classes: ResNet-18 (BASIC 2-2-2-2, width 64)
// 11,689,512; ResNet-50 (BOTTLENECK 3-4-6-3) 25,557,032; ResNet-101 (3-4-23-3) 44,549,160;
// ResNet-200 (3-24-36-3) 64,673,832. Ghost BN does not change them. ResNetTrunk of ResNet-18 up to
// layer3 (BASIC 2-2-2, Hybrid-DeiT's backbone): 2,782,784.
#ifndef ROBUSTNESS_MODELS_RESNET_H_
#define ROBUSTNESS_MODELS_RESNET_H_

#include <cstdint>
#include <ostream>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "robustness/models/image_classifier.h"
#include "robustness/models/normalize.h"

namespace robustness {

// Options for ResNet. Required: num_classes and stage_depths; the rest default to torchvision's
// ImageNet ResNet (BOTTLENECK, width 64, IMAGENET stem, ReLU, 3 channels, ImageNet statistics).
// Ranges (CHECKed at construction; ValidateModelConfig reports them as Status first):
// num_classes >= 1, in_channels >= 1, every stage depth >= 1 and at least one stage,
// base_width >= 1, normalize with in_channels entries, virtual_batch_size >= 1 with ghost BN.
//
// Example (ResNet-18 at width 16 for Fashion-MNIST):
//   ResNet model(ResNetOptions(10, {2, 2, 2, 2})
//                    .block(ResNetOptions::Block::kBasic).base_width(16)
//                    .stem(ResNetOptions::Stem::kSmall).in_channels(1)
//                    .normalize(NormalizeOptions({0.5}, {0.5})));
struct ResNetOptions {
  enum class Block { kBasic, kBottleneck };
  enum class Stem { kImageNet, kSmall };
  enum class Activation { kReLU, kGELU };  // kGELU is exact (erf) GELU.
  enum class Norm { kBatchNorm, kGhostBatchNorm };

  ResNetOptions(int64_t num_classes, std::vector<int64_t> stage_depths);

  TORCH_ARG(int64_t, num_classes);
  TORCH_ARG(std::vector<int64_t>, stage_depths);
  TORCH_ARG(Block, block) = Block::kBottleneck;
  TORCH_ARG(int64_t, base_width) = 64;
  TORCH_ARG(Stem, stem) = Stem::kImageNet;
  TORCH_ARG(Activation, activation) = Activation::kReLU;
  TORCH_ARG(int64_t, in_channels) = 3;
  TORCH_ARG(NormalizeOptions, normalize) = NormalizeOptions(NormalizeOptions::ImageNetMean(),
                                                            NormalizeOptions::ImageNetStd());
  // Every BN layer; with kGhostBatchNorm, virtual_batch_size images per virtual batch (paper: 64).
  TORCH_ARG(Norm, norm) = Norm::kBatchNorm;
  TORCH_ARG(int64_t, virtual_batch_size) = 0;  // Used only with kGhostBatchNorm.
};

namespace resnet_internal {
// Stem and stages, shared by ResNet and ResNetTrunk so that both have the same layers, names
// and initialisation. bn1 is BatchNorm2d or GhostBatchNorm2d.
struct Trunk {
  torch::nn::Conv2d conv1{nullptr};
  torch::nn::AnyModule bn1;
  std::vector<torch::nn::Sequential> stages;
  int64_t num_features = 0;  // Channels of the last stage's output.
};
}  // namespace resnet_internal

// forward(images): images float32 [N, in_channels, H, W] in [0, 1], any H, W >= 1 (the pool is
// adaptive); returns logits float32 [N, num_classes]. BatchNorm uses batch statistics in train()
// mode and running statistics in eval() mode.
class ResNetImpl : public ImageClassifierImpl {
 public:
  explicit ResNetImpl(ResNetOptions options);

  torch::Tensor forward(const torch::Tensor& images) override;
  void pretty_print(std::ostream& stream) const override;

  // Channels entering the final fc layer: base_width * 2^(stages-1) * expansion.
  int64_t num_features() const { return trunk_.num_features; }

  ResNetOptions options;

 private:
  Normalize normalize_{nullptr};
  resnet_internal::Trunk trunk_;
  torch::nn::Linear fc_{nullptr};
};

TORCH_MODULE(ResNet);

// The ResNet without Normalize, average pool and fc: stem + the stages of options.stage_depths
// (e.g. {2, 2, 2} keeps ResNet-18 up to layer3, PAPER.md's res_4), as Hybrid-DeiT's backbone.
// Everything else (block, width, stem, activation, norm, in_channels, the init and its use of the
// default generator) is as in ResNet; options.num_classes() and options.normalize() are unused.
// Parameter names are ResNet's (conv1, bn1, layer1.0.conv1, ..., layer3.1.bn2.running_var), so a
// ResNet-18 state dict restricted to those names loads into it.
//
// Example (Hybrid-DeiT's trunk; 224 px gives [N, 256, 14, 14]):
//   ResNetTrunk trunk(ResNetOptions(/*num_classes=*/1, {2, 2, 2}).block(Block::kBasic));
//   torch::Tensor features = trunk->forward_features(normalized_images);
class ResNetTrunkImpl : public torch::nn::Module {
 public:
  explicit ResNetTrunkImpl(ResNetOptions options);

  // normalized_images: float32 [N, in_channels, H, W], already normalised (no Normalize inside),
  // H, W >= 1. Returns float32 [N, num_features(), h, w] with h = ceil(H / stride()) and
  // w = ceil(W / stride()) (every stride-2 layer pads, so odd sizes round up). BN as in ResNet.
  torch::Tensor forward_features(const torch::Tensor& normalized_images);
  torch::Tensor forward(const torch::Tensor& normalized_images) {
    return forward_features(normalized_images);
  }
  void pretty_print(std::ostream& stream) const override;

  // Output channels: base_width * 2^(stages-1) * expansion (256 for ResNet-18 up to layer3).
  int64_t num_features() const { return trunk_.num_features; }
  // Total downsampling: 4 (IMAGENET stem: stride-2 conv and stride-2 pool) or 1 (SMALL stem),
  // times 2 for every stage after the first. 16 for three stages after the IMAGENET stem.
  int64_t stride() const;

  ResNetOptions options;

 private:
  resnet_internal::Trunk trunk_;
};

TORCH_MODULE(ResNetTrunk);

}  // namespace robustness

#endif  // ROBUSTNESS_MODELS_RESNET_H_
