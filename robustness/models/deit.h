// DeiT: the pre-norm Vision Transformer of PAPER.md 3.12, the Transformer side of the paper's
// comparison (DeiT-Ti / -S / -B; timm's VisionTransformer without distillation token).
//
// Layout: Normalize -> patch_embed.proj (conv, kernel = stride = patch_size) -> flatten to
// [N, P, D] tokens (P = (image_size / patch_size)^2) -> prepend cls_token -> add pos_embed ->
// depth x Block -> norm -> head on the class token. Each Block is
//   x = x + attn.proj(MHSA(norm1(x)))        MHSA: one qkv Linear(D, 3D) with bias,
//   x = x + mlp.fc2(GELU(mlp.fc1(norm2(x))))   softmax(q k^T * head_dim^-0.5) v per head
// with LayerNorm eps 1e-6, exact (erf) GELU, MLP hidden width int(D * mlp_ratio), no dropout and
// no stochastic depth (the paper turns both off, PAPER.md 3.3).
//
// Initialisation (timm 0.3.2): cls_token, pos_embed and every Linear weight trunc_normal(std
// 0.02, cut at +-2 absolute, as timm does), Linear biases 0, LayerNorm weight 1 / bias 0. The
// patch-embedding conv keeps LibTorch's default Conv2d init, which is what timm 0.3.2 does too
// (its _init_weights only touches Linear and LayerNorm). With zero_init_residual_projections the
// weights of every attn.proj and mlp.fc2 start at zero, as in the paper's released
// models/vision_transformer.py (each residual branch starts as the identity); upstream DeiT does
// not do this, so it is off by default. Construction consumes LibTorch's default CPU generator.
//
// Parameter names follow timm (cls_token, pos_embed, patch_embed.proj.weight,
// blocks.3.attn.qkv.weight, blocks.3.mlp.fc1.bias, norm.weight, head.weight), so timm state
// dicts map one to one and the trainer's weight-decay exemption (names containing "cls_token" /
// "pos_embed") applies. Per block: 12 D^2 + 13 D parameters. At 224 px, patch 16, 3 channels,
// 1000 classes: DeiT-Ti (192, 12, 3 heads) 5,717,416; DeiT-S (384, 12, 6) 22,050,664;
// DeiT-B (768, 12, 12) 86,567,656.
#ifndef ROBUSTNESS_MODELS_DEIT_H_
#define ROBUSTNESS_MODELS_DEIT_H_

#include <cstdint>
#include <ostream>

#include <torch/arg.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "robustness/models/image_classifier.h"
#include "robustness/models/normalize.h"

namespace robustness {

// Options for DeiT. Required: num_classes; the rest default to DeiT-S at 224 px on RGB ImageNet.
// Ranges (CHECKed at construction; ValidateModelConfig reports them as Status first): all sizes
// >= 1, image_size divisible by patch_size, embed_dim divisible by num_heads,
// int(embed_dim * mlp_ratio) >= 1, normalize with in_channels entries.
//
// Example (a tiny DeiT for Fashion-MNIST, 16 tokens + CLS):
//   DeiT model(DeiTOptions(10).image_size(28).patch_size(7).in_channels(1)
//                  .embed_dim(128).depth(6).num_heads(4)
//                  .normalize(NormalizeOptions({0.5}, {0.5})));
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
  TORCH_ARG(NormalizeOptions, normalize) = NormalizeOptions(NormalizeOptions::ImageNetMean(),
                                                            NormalizeOptions::ImageNetStd());
};

// forward(images): images float32 [N, in_channels, image_size, image_size] in [0, 1] (the size is
// CHECKed: the position embedding is fixed); returns logits float32 [N, num_classes].
class DeiTImpl : public ImageClassifierImpl {
 public:
  explicit DeiTImpl(DeiTOptions options);

  torch::Tensor forward(const torch::Tensor& images) override;
  void pretty_print(std::ostream& stream) const override;

  // (image_size / patch_size)^2; the sequence length is num_patches() + 1.
  int64_t num_patches() const { return num_patches_; }

  DeiTOptions options;

 private:
  int64_t num_patches_ = 0;
  Normalize normalize_{nullptr};
  torch::nn::Conv2d patch_proj_{nullptr};
  torch::Tensor cls_token_;  // [1, 1, D]
  torch::Tensor pos_embed_;  // [1, P + 1, D]
  torch::nn::ModuleList blocks_{nullptr};
  torch::nn::LayerNorm norm_{nullptr};
  torch::nn::Linear head_{nullptr};
};

TORCH_MODULE(DeiT);

}  // namespace robustness

#endif  // ROBUSTNESS_MODELS_DEIT_H_
