// DeiT: the pre-norm Vision Transformer of PAPER.md 3.12, the Transformer side of the paper's
// comparison (DeiT-Ti / -Mini / -S / -B), with two options from the DeiT codebase (stochastic
// depth, distillation token) and the paper's Hybrid-DeiT (a ResNet trunk in place of the patch
// conv). Semantics are timm 0.3.2's VisionTransformer, the version the paper pins
// (requirements.txt: timm==0.3.2), and facebookresearch/deit's DistilledVisionTransformer on it.
//
// Layout: Normalize -> patch_embed -> [N, P, D] tokens -> prepend cls_token (and dist_token) ->
// add pos_embed -> depth x Block -> norm -> head on the class token (and head_dist on the
// distillation token). patch_embed is either
//   patch:  patch_embed.proj, a conv with kernel = stride = patch_size, P = (image_size /
//           patch_size)^2 tokens in row-major order; or
//   hybrid: patch_embed.backbone, a ResNetTrunk (resnet.h) on the normalised images, whose
//           [N, C, h, w] feature map is flattened row-major to P = h * w tokens, then
//           patch_embed.proj = Linear(C, D). This is timm 0.3.2's HybridEmbed; later timm
//           versions (0.4.x on) project with a 1x1 conv instead, whose weight is [D, C, 1, 1]
//           rather than our [D, C]. patch_size must equal the trunk's stride(), so P =
//           (image_size / patch_size)^2 holds for both: 196 tokens at 224 px for ResNet-18 up to
//           layer3 (PAPER.md 3.12, "res_4").
// Each Block is
//   x = x + drop_path(attn.proj(MHSA(norm1(x))))        MHSA: one qkv Linear(D, 3D) with bias,
//   x = x + drop_path(mlp.fc2(GELU(mlp.fc1(norm2(x)))))   softmax(q k^T * head_dim^-0.5) v
// with LayerNorm eps 1e-6, exact (erf) GELU, MLP hidden width int(D * mlp_ratio), no dropout.
//
// Stochastic depth (timm 0.3.2 drop_path, off by default as in the paper, PAPER.md 3.3): block i
// gets rate r_i = linspace(0, drop_path_rate, depth)[i] (float32, as torch.linspace); in train()
// mode each of its two residual branches is, per sample, zeroed with probability r_i and otherwise
// scaled by 1 / (1 - r_i): mask = floor((1 - r_i) + U[0, 1)) from torch::rand([N, 1, 1]) on the
// input's device, i.e. LibTorch's default generator of that device (seed it with
// torch::manual_seed; every train-mode forward with a non-zero rate consumes it). eval() mode, and
// any block with r_i = 0 (always block 0), is the identity and draws nothing.
//
// Distillation token (facebookresearch/deit DistilledVisionTransformer): a second learned token
// dist_token [1, 1, D] after the class token (sequence: cls, dist, patches; pos_embed has P + 2
// rows) and a second classifier head_dist = Linear(D, num_classes) on its final-norm output.
// forward() returns (head(cls) + head_dist(dist)) / 2 in both train() and eval() mode. Deviation:
// DeiT returns the tuple (head, head_dist) in train mode, but ImageClassifier::forward returns one
// tensor; distillation training calls forward_heads(), which returns both.
//
// Initialisation (timm 0.3.2): cls_token, pos_embed and every Linear weight trunc_normal(std
// 0.02, cut at +-2 absolute, as timm does), Linear biases 0, LayerNorm weight 1 / bias 0. The
// patch-embedding conv keeps LibTorch's default Conv2d init, which is what timm 0.3.2 does too
// (its _init_weights only touches Linear and LayerNorm); likewise the hybrid trunk keeps ResNet's
// init, while the hybrid's Linear patch_embed.proj and head_dist get the Linear init above, and
// dist_token trunc_normal(0.02) as in DeiT. With zero_init_residual_projections the
// weights of every attn.proj and mlp.fc2 start at zero, as in the paper's released
// models/vision_transformer.py (each residual branch starts as the identity); upstream DeiT does
// not do this, so it is off by default. Construction consumes LibTorch's default CPU generator.
//
// Parameter names follow timm (cls_token, pos_embed, patch_embed.proj.weight,
// blocks.3.attn.qkv.weight, blocks.3.mlp.fc1.bias, norm.weight, head.weight), so timm state
// dicts map one to one and the trainer's weight-decay exemption (timm's rule: 1-D, ".bias",
// cls_token, pos_embed) applies; the distilled model adds dist_token (decayed, as in DeiT,
// whose no_weight_decay() does not list it) and head_dist.*, the hybrid
// patch_embed.backbone.conv1.weight, patch_embed.backbone.layer3.1.bn2.running_var, ... (ResNet's
// names under patch_embed.backbone) and patch_embed.proj.weight [D, C] / .bias [D].
//
// Per block: 12 D^2 + 13 D parameters. At 224 px, patch 16, 3 channels, 1000 classes:
// DeiT-Ti (192, 12, 3 heads) 5,717,416; DeiT-Mini (256, 12, 4) 9,982,184; DeiT-S (384, 12, 6)
// 22,050,664; DeiT-B (768, 12, 12) 86,567,656; distilled DeiT-S 22,436,432 (+ D dist_token, + D
// pos_embed row, + D * 1000 + 1000 head_dist). Hybrid-DeiT (ResNet-18 to layer3 into DeiT-Mini)
// 12,633,896 = 2,782,784 trunk + 9,851,112 encoder (DeiT-Mini with the 196,864-parameter patch
// conv replaced by the 65,792-parameter Linear(256, 256)).
#ifndef ROBUSTNESS_MODELS_DEIT_H_
#define ROBUSTNESS_MODELS_DEIT_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <utility>

#include <torch/arg.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "robustness/models/image_classifier.h"
#include "robustness/models/normalize.h"
#include "robustness/models/resnet.h"

namespace robustness {

// Options for DeiT. Required: num_classes; the rest default to DeiT-S at 224 px on RGB ImageNet.
// Ranges (CHECKed at construction; ValidateModelConfig reports them as Status first): all sizes
// >= 1, image_size divisible by patch_size, embed_dim divisible by num_heads,
// int(embed_dim * mlp_ratio) >= 1, normalize with in_channels entries, drop_path_rate in [0, 1);
// with a hybrid_backbone: patch_size == ResNetTrunk's stride() and equal in_channels.
//
// Example (a tiny DeiT for Fashion-MNIST, 16 tokens + CLS):
//   DeiT model(DeiTOptions(10).image_size(28).patch_size(7).in_channels(1)
//                  .embed_dim(128).depth(6).num_heads(4)
//                  .normalize(NormalizeOptions({0.5}, {0.5})));
//
// Example (the paper's Hybrid-DeiT: ResNet-18 up to layer3 into DeiT-Mini, 224 px):
//   DeiT hybrid(DeiTOptions(1000).embed_dim(256).num_heads(4)
//                   .hybrid_backbone(ResNetOptions(1000, {2, 2, 2})
//                                        .block(ResNetOptions::Block::kBasic)));
struct DeiTOptions {
  explicit DeiTOptions(int64_t num_classes);

  TORCH_ARG(int64_t, num_classes);
  TORCH_ARG(int64_t, image_size) = 224;
  TORCH_ARG(int64_t, patch_size) = 16;
  TORCH_ARG(int64_t, in_channels) = 3;
  TORCH_ARG(int64_t, embed_dim) = 384;
  TORCH_ARG(int64_t, depth) = 12;
  TORCH_ARG(int64_t, num_heads) = 6;
  TORCH_ARG(double, mlp_ratio) = 4.0;
  TORCH_ARG(bool, zero_init_residual_projections) = false;
  TORCH_ARG(double, drop_path_rate) = 0.0;  // Of the last block; [0, 1). Paper 0, DeiT 0.1.
  TORCH_ARG(bool, distillation_token) = false;
  // When set: Hybrid-DeiT with this ResNetTrunk as patch_embed.backbone (its num_classes and
  // normalize are unused; the model's normalize runs once, before the trunk).
  TORCH_ARG(std::optional<ResNetOptions>, hybrid_backbone) = std::nullopt;
  TORCH_ARG(NormalizeOptions, normalize) = NormalizeOptions(NormalizeOptions::ImageNetMean(),
                                                            NormalizeOptions::ImageNetStd());
};

// forward(images): images float32 [N, in_channels, image_size, image_size] in [0, 1] (the size is
// CHECKed: the position embedding is fixed); returns logits float32 [N, num_classes] (with a
// distillation token, the average of the two heads).
class DeiTImpl : public ImageClassifierImpl {
 public:
  explicit DeiTImpl(DeiTOptions options);

  torch::Tensor forward(const torch::Tensor& images) override;
  // For distillation training (CHECKs distillation_token): the logits of head (class token) and
  // head_dist (distillation token), each float32 [N, num_classes]; forward() is their average.
  // Same input contract as forward().
  std::pair<torch::Tensor, torch::Tensor> forward_heads(const torch::Tensor& images);
  void pretty_print(std::ostream& stream) const override;

  // Patch tokens: (image_size / patch_size)^2; the sequence length is num_patches() + 1, or + 2
  // with a distillation token.
  int64_t num_patches() const { return num_patches_; }

  DeiTOptions options;

 private:
  // Normalise, embed, prepend the class (and distillation) token, add pos_embed, run the blocks:
  // returns the [N, T, D] tokens after the last block, before the final norm.
  torch::Tensor Encode(const torch::Tensor& images);

  int64_t num_patches_ = 0;
  Normalize normalize_{nullptr};
  torch::nn::Conv2d patch_proj_{nullptr};   // patch mode
  ResNetTrunk hybrid_backbone_{nullptr};    // hybrid mode
  torch::nn::Linear hybrid_proj_{nullptr};  // hybrid mode
  torch::Tensor cls_token_;                 // [1, 1, D]
  torch::Tensor dist_token_;                // [1, 1, D], with distillation_token
  torch::Tensor pos_embed_;                 // [1, P + 1 (+ 1), D]
  torch::nn::ModuleList blocks_{nullptr};
  torch::nn::LayerNorm norm_{nullptr};
  torch::nn::Linear head_{nullptr};
  torch::nn::Linear head_dist_{nullptr};  // with distillation_token
};

TORCH_MODULE(DeiT);

// timm 0.3.2's drop_path, which every Block applies to its two residual branches: when `training`
// and rate > 0, each sample x[i] is zeroed with probability `rate` and otherwise scaled by
// 1 / (1 - rate), the mask being floor((1 - rate) + U[0, 1)) from one torch::rand([N, 1, ...]) on
// x's device (that device's default generator); otherwise returns x itself and draws nothing.
// x: float [N, ...]; rate in [0, 1) (CHECKed).
torch::Tensor DropPath(const torch::Tensor& x, double rate, bool training);

}  // namespace robustness

#endif  // ROBUSTNESS_MODELS_DEIT_H_
