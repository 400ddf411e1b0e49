#include "robustness/models/deit.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <torch/utils.h>

namespace robustness {
namespace {

int64_t NumParameters(const torch::nn::Module& module) {
  int64_t total = 0;
  for (const auto& p : module.parameters()) total += p.numel();
  return total;
}

// 4x4 single-channel images, 2x2 patches: 4 tokens + CLS, D = 8, 2 heads.
DeiTOptions TinyOptions() {
  return DeiTOptions(3)
      .image_size(4)
      .patch_size(2)
      .in_channels(1)
      .embed_dim(8)
      .depth(1)
      .num_heads(2)
      .mlp_ratio(2.0)
      .normalize(NormalizeOptions({0.5}, {0.25}));
}

TEST(DeiT, ParameterCountsMatchThePaper) {
  EXPECT_EQ(NumParameters(*DeiT(DeiTOptions(1000).embed_dim(192).num_heads(3))), 5717416);
  EXPECT_EQ(NumParameters(*DeiT(DeiTOptions(1000))), 22050664);  // DeiT-S, the defaults.
  EXPECT_EQ(NumParameters(*DeiT(DeiTOptions(1000).embed_dim(768).num_heads(12))), 86567656);
}

TEST(DeiT, ForwardGivesLogitsOnFashionMnistShape) {
  torch::manual_seed(0);
  DeiT model(DeiTOptions(10)
                 .image_size(28)
                 .patch_size(7)
                 .in_channels(1)
                 .embed_dim(32)
                 .depth(2)
                 .num_heads(4)
                 .normalize(NormalizeOptions({0.5}, {0.5})));
  torch::Tensor logits = model(torch::rand({2, 1, 28, 28}));
  EXPECT_EQ(logits.sizes(), torch::IntArrayRef({2, 10}));
  EXPECT_TRUE(logits.isfinite().all().item<bool>());
  EXPECT_EQ(model->num_patches(), 16);
}

TEST(DeiT, ParametersCarryTimmNames) {
  DeiT model(TinyOptions());
  auto params = model->named_parameters();
  EXPECT_EQ(params["cls_token"].sizes(), torch::IntArrayRef({1, 1, 8}));
  EXPECT_EQ(params["pos_embed"].sizes(), torch::IntArrayRef({1, 5, 8}));
  for (const char* name :
       {"patch_embed.proj.weight", "blocks.0.norm1.weight", "blocks.0.attn.qkv.bias",
        "blocks.0.attn.proj.weight", "blocks.0.mlp.fc1.weight", "blocks.0.mlp.fc2.bias",
        "norm.bias", "head.weight"}) {
    EXPECT_TRUE(params.contains(name)) << name;
  }
  EXPECT_EQ(params["blocks.0.mlp.fc1.weight"].sizes(), torch::IntArrayRef({16, 8}));
}

TEST(DeiT, InitialisationFollowsTimm) {
  torch::manual_seed(0);
  DeiT model(DeiTOptions(10).embed_dim(192).depth(2).num_heads(3));
  auto params = model->named_parameters();
  EXPECT_NEAR(params["blocks.1.mlp.fc1.weight"].std().item<double>(), 0.02, 0.001);
  EXPECT_NEAR(params["pos_embed"].std().item<double>(), 0.02, 0.002);
  EXPECT_TRUE(torch::equal(params["blocks.0.attn.qkv.bias"], torch::zeros({576})));
  EXPECT_TRUE(torch::equal(params["norm.weight"], torch::ones({192})));
  EXPECT_GT(params["blocks.0.attn.proj.weight"].abs().sum().item<double>(), 0.0);
}

TEST(DeiT, ZeroInitResidualProjectionsLikeThePaperCode) {
  DeiT model(TinyOptions().depth(2).zero_init_residual_projections(true));
  auto params = model->named_parameters();
  for (const char* name : {"blocks.0.attn.proj.weight", "blocks.1.mlp.fc2.weight"}) {
    EXPECT_EQ(params[name].abs().sum().item<double>(), 0.0) << name;
  }
  EXPECT_GT(params["blocks.1.mlp.fc1.weight"].abs().sum().item<double>(), 0.0);
}

// Reference forward written out per token and per head, with explicit loops, so it shares no
// reshape/permute logic with the module.
torch::Tensor ReferenceForward(DeiTImpl& model, const torch::Tensor& images) {
  auto p = model.named_parameters();
  auto layer_norm = [&](const torch::Tensor& x, const std::string& prefix) {
    torch::Tensor mean = x.mean(-1, true);
    torch::Tensor var = (x - mean).pow(2).mean(-1, true);
    return (x - mean) / (var + 1e-6).sqrt() * p[prefix + ".weight"] + p[prefix + ".bias"];
  };
  auto linear = [&](const torch::Tensor& x, const std::string& prefix) {
    return torch::matmul(x, p[prefix + ".weight"].t()) + p[prefix + ".bias"];
  };
  const int64_t d = 8, heads = 2, head_dim = 4;
  torch::Tensor x_norm = (images[0][0] - 0.5) / 0.25;  // [4, 4], one image.
  std::vector<torch::Tensor> tokens = {p["cls_token"].reshape({d})};
  torch::Tensor w = p["patch_embed.proj.weight"];  // [8, 1, 2, 2]
  for (int64_t r = 0; r < 2; ++r) {
    for (int64_t c = 0; c < 2; ++c) {
      torch::Tensor patch = x_norm.slice(0, 2 * r, 2 * r + 2).slice(1, 2 * c, 2 * c + 2);
      tokens.push_back((w.reshape({d, 4}) * patch.reshape({1, 4})).sum(1) +
                       p["patch_embed.proj.bias"]);
    }
  }
  torch::Tensor x = torch::stack(tokens) + p["pos_embed"][0];                        // [5, 8]
  torch::Tensor qkv = linear(layer_norm(x, "blocks.0.norm1"), "blocks.0.attn.qkv");  // [5, 24]
  torch::Tensor attended = torch::zeros({5, d});
  for (int64_t h = 0; h < heads; ++h) {
    torch::Tensor q = qkv.slice(1, h * head_dim, (h + 1) * head_dim);
    torch::Tensor k = qkv.slice(1, d + h * head_dim, d + (h + 1) * head_dim);
    torch::Tensor v = qkv.slice(1, 2 * d + h * head_dim, 2 * d + (h + 1) * head_dim);
    for (int64_t i = 0; i < 5; ++i) {
      torch::Tensor scores = (k * q[i]).sum(1) / std::sqrt(static_cast<double>(head_dim));
      torch::Tensor weights = scores.exp() / scores.exp().sum();
      attended.slice(1, h * head_dim, (h + 1) * head_dim)[i] = (v * weights.unsqueeze(1)).sum(0);
    }
  }
  x = x + linear(attended, "blocks.0.attn.proj");
  torch::Tensor hidden = linear(layer_norm(x, "blocks.0.norm2"), "blocks.0.mlp.fc1");
  hidden = 0.5 * hidden * (1 + torch::erf(hidden / std::sqrt(2.0)));  // exact GELU
  x = x + linear(hidden, "blocks.0.mlp.fc2");
  return linear(layer_norm(x[0], "norm"), "head");  // [3]
}

TEST(DeiT, MatchesHandWrittenReferenceForward) {
  torch::manual_seed(0);
  DeiT model(TinyOptions());
  {
    // Non-zero biases and LayerNorm affines, so the reference checks that they are used.
    torch::NoGradGuard no_grad;
    for (auto& p : model->parameters()) p.normal_(0, 0.5);
  }
  torch::Tensor images = torch::rand({2, 1, 4, 4});
  torch::NoGradGuard no_grad;
  torch::Tensor logits = model(images);
  EXPECT_TRUE(torch::allclose(logits[0], ReferenceForward(*model, images), 1e-4, 1e-5))
      << logits[0] << ReferenceForward(*model, images);
}

// Swapping the top-left and bottom-right 2x2 patches permutes the patch tokens. Self-attention
// and the CLS read-out are permutation-equivariant/-invariant, so only pos_embed can tell.
TEST(DeiT, PositionEmbeddingIsTheOnlySourceOfOrder) {
  torch::manual_seed(0);
  DeiT model(TinyOptions().depth(2));
  torch::Tensor images = torch::rand({1, 1, 4, 4});
  torch::Tensor swapped = images.clone();
  swapped.slice(2, 0, 2).slice(3, 0, 2).copy_(images.slice(2, 2, 4).slice(3, 2, 4));
  swapped.slice(2, 2, 4).slice(3, 2, 4).copy_(images.slice(2, 0, 2).slice(3, 0, 2));
  torch::NoGradGuard no_grad;

  EXPECT_FALSE(torch::allclose(model(images), model(swapped), 1e-4, 1e-6));
  model->named_parameters()["pos_embed"].zero_();
  EXPECT_TRUE(torch::allclose(model(images), model(swapped), 1e-4, 1e-6));
}

TEST(DeiTDeathTest, RejectsImagesOfAnotherSize) {
  DeiT model(TinyOptions());
  EXPECT_DEATH(model(torch::rand({1, 1, 8, 8})), "built for 4 px");
}

}  // namespace
}  // namespace robustness
