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
  EXPECT_EQ(NumParameters(*DeiT(DeiTOptions(1000).embed_dim(256).num_heads(4))), 9982184);
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
// reshape/permute logic with the module. Returns head(class token) and, for a distilled model,
// head_dist(distillation token), which sits right after the class token.
std::vector<torch::Tensor> ReferenceForward(DeiTImpl& model, const torch::Tensor& images) {
  const bool distilled = model.options.distillation_token();
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
  if (distilled) tokens.push_back(p["dist_token"].reshape({d}));
  torch::Tensor w = p["patch_embed.proj.weight"];  // [8, 1, 2, 2]
  for (int64_t r = 0; r < 2; ++r) {
    for (int64_t c = 0; c < 2; ++c) {
      torch::Tensor patch = x_norm.slice(0, 2 * r, 2 * r + 2).slice(1, 2 * c, 2 * c + 2);
      tokens.push_back((w.reshape({d, 4}) * patch.reshape({1, 4})).sum(1) +
                       p["patch_embed.proj.bias"]);
    }
  }
  const int64_t t = static_cast<int64_t>(tokens.size());
  torch::Tensor x = torch::stack(tokens) + p["pos_embed"][0];                        // [T, 8]
  torch::Tensor qkv = linear(layer_norm(x, "blocks.0.norm1"), "blocks.0.attn.qkv");  // [T, 24]
  torch::Tensor attended = torch::zeros({t, d});
  for (int64_t h = 0; h < heads; ++h) {
    torch::Tensor q = qkv.slice(1, h * head_dim, (h + 1) * head_dim);
    torch::Tensor k = qkv.slice(1, d + h * head_dim, d + (h + 1) * head_dim);
    torch::Tensor v = qkv.slice(1, 2 * d + h * head_dim, 2 * d + (h + 1) * head_dim);
    for (int64_t i = 0; i < t; ++i) {
      torch::Tensor scores = (k * q[i]).sum(1) / std::sqrt(static_cast<double>(head_dim));
      torch::Tensor weights = scores.exp() / scores.exp().sum();
      attended.slice(1, h * head_dim, (h + 1) * head_dim)[i] = (v * weights.unsqueeze(1)).sum(0);
    }
  }
  x = x + linear(attended, "blocks.0.attn.proj");
  torch::Tensor hidden = linear(layer_norm(x, "blocks.0.norm2"), "blocks.0.mlp.fc1");
  hidden = 0.5 * hidden * (1 + torch::erf(hidden / std::sqrt(2.0)));  // exact GELU
  x = x + linear(hidden, "blocks.0.mlp.fc2");
  std::vector<torch::Tensor> logits = {linear(layer_norm(x[0], "norm"), "head")};  // [3]
  if (distilled) logits.push_back(linear(layer_norm(x[1], "norm"), "head_dist"));
  return logits;
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
  torch::Tensor reference = ReferenceForward(*model, images)[0];
  EXPECT_TRUE(torch::allclose(logits[0], reference, 1e-4, 1e-5)) << logits[0] << reference;
}

TEST(DeiT, DistilledModelMatchesHandWrittenReferenceForward) {
  torch::manual_seed(0);
  DeiT model(TinyOptions().distillation_token(true));
  {
    torch::NoGradGuard no_grad;
    for (auto& p : model->parameters()) p.normal_(0, 0.5);
  }
  torch::Tensor images = torch::rand({2, 1, 4, 4});
  torch::NoGradGuard no_grad;
  auto [logits, dist_logits] = model->forward_heads(images);
  std::vector<torch::Tensor> reference = ReferenceForward(*model, images);
  EXPECT_TRUE(torch::allclose(logits[0], reference[0], 1e-4, 1e-5)) << logits[0] << reference[0];
  EXPECT_TRUE(torch::allclose(dist_logits[0], reference[1], 1e-4, 1e-5));
  EXPECT_FALSE(torch::allclose(logits, dist_logits, 1e-2, 1e-2));
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

TEST(DropPath, DropsWholeSamplesAndRescalesTheSurvivors) {
  torch::manual_seed(0);
  torch::Tensor out = DropPath(torch::ones({2000, 3, 4}), 0.25, /*training=*/true);
  torch::Tensor low = out.amin({1, 2});
  torch::Tensor high = out.amax({1, 2});
  EXPECT_TRUE(torch::equal(low, high));  // One decision per sample.
  torch::Tensor dropped = high == 0;
  torch::Tensor kept = (high - 1 / 0.75).abs() < 1e-6;
  EXPECT_TRUE(torch::logical_or(dropped, kept).all().item<bool>());
  // Binomial(2000, 0.25): standard deviation 0.0097, so +-0.05 is over 5 sigma.
  EXPECT_NEAR(dropped.to(torch::kFloat).mean().item<double>(), 0.25, 0.05);
}

TEST(DropPath, IsTheIdentityInEvalModeOrAtRateZeroAndDrawsNothing) {
  torch::manual_seed(1);
  torch::Tensor x = torch::randn({4, 3});
  EXPECT_TRUE(DropPath(x, 0.5, /*training=*/false).is_same(x));
  EXPECT_TRUE(DropPath(x, 0.0, /*training=*/true).is_same(x));
  torch::Tensor next = torch::rand({5});
  torch::manual_seed(1);
  torch::randn({4, 3});
  EXPECT_TRUE(torch::equal(torch::rand({5}), next));
}

TEST(DeiT, StochasticDepthOnlyActsInTrainMode) {
  // The rate consumes no randomness at construction: the same seed gives the same weights.
  torch::manual_seed(0);
  DeiT plain(TinyOptions().depth(3));
  torch::manual_seed(0);
  DeiT dropping(TinyOptions().depth(3).drop_path_rate(0.5));
  torch::Tensor images = torch::rand({8, 1, 4, 4});
  plain->eval();
  dropping->eval();
  torch::Tensor eval_logits = plain(images);
  EXPECT_TRUE(torch::equal(dropping(images), eval_logits));

  // Rate 0 in train mode: the numbers of eval mode (DeiT has no other train-mode behaviour), and
  // the generator is untouched.
  plain->train();
  torch::manual_seed(7);
  EXPECT_TRUE(torch::equal(plain(images), eval_logits));
  torch::Tensor next = torch::rand({4});
  torch::manual_seed(7);
  EXPECT_TRUE(torch::equal(torch::rand({4}), next));

  dropping->train();
  EXPECT_FALSE(torch::allclose(dropping(images), eval_logits, 1e-3, 1e-3));
}

// Depth 2 at drop_path_rate 0.99: block 0 gets rate 0, block 1 rate 0.99. A sample whose two
// block-1 branches are both dropped leaves block 1 exactly unchanged, i.e. it matches, bit for bit,
// the same model with block 1's branches silenced (output projections zeroed).
TEST(DeiT, StochasticDepthNearOneDropsTheLastBlockForMostSamples) {
  torch::manual_seed(0);
  DeiT model(TinyOptions().depth(2).drop_path_rate(0.99));
  torch::manual_seed(0);
  DeiT silenced(TinyOptions().depth(2).drop_path_rate(0.99));
  {
    torch::NoGradGuard no_grad;
    auto params = silenced->named_parameters();
    for (const char* name : {"blocks.1.attn.proj.weight", "blocks.1.attn.proj.bias",
                             "blocks.1.mlp.fc2.weight", "blocks.1.mlp.fc2.bias"}) {
      params[name].zero_();
    }
  }
  silenced->eval();
  torch::Tensor images = torch::rand({64, 1, 4, 4});
  torch::NoGradGuard no_grad;
  torch::Tensor reference = silenced(images);
  torch::manual_seed(1);
  const int64_t matching = (model(images) == reference).all(1).sum().item<int64_t>();
  // Expected 64 * 0.99^2 = 62.7 samples; fewer than 54 has probability ~1e-7 (Binomial).
  EXPECT_GE(matching, 54);
  model->eval();  // Without drop path, block 1 changes every sample.
  EXPECT_EQ((model(images) == reference).all(1).sum().item<int64_t>(), 0);
}

TEST(DeiT, StochasticDepthIsDeterministicGivenTheSeed) {
  torch::manual_seed(0);
  DeiT model(TinyOptions().depth(3).drop_path_rate(0.5));
  torch::Tensor images = torch::rand({16, 1, 4, 4});
  torch::manual_seed(3);
  torch::Tensor first = model(images);
  torch::manual_seed(3);
  torch::Tensor again = model(images);
  torch::manual_seed(4);
  torch::Tensor other_seed = model(images);
  EXPECT_TRUE(torch::equal(first, again));
  EXPECT_FALSE(torch::equal(first, other_seed));
}

TEST(DeiT, DistilledDeiTSHasTheDeiTParameterCount) {
  // DeiT-S + dist_token 384 + one pos_embed row 384 + head_dist 384 * 1000 + 1000.
  EXPECT_EQ(NumParameters(*DeiT(DeiTOptions(1000).distillation_token(true))), 22436432);
}

TEST(DeiT, DistillationTokenAndHeadAreLaidOutAndInitialisedAsInDeiT) {
  torch::manual_seed(0);
  DeiT model(
      DeiTOptions(10).image_size(32).embed_dim(192).depth(1).num_heads(3).distillation_token(true));
  auto params = model->named_parameters();
  EXPECT_EQ(params["dist_token"].sizes(), torch::IntArrayRef({1, 1, 192}));
  EXPECT_EQ(params["pos_embed"].sizes(), torch::IntArrayRef({1, 4 + 2, 192}));
  EXPECT_EQ(params["head_dist.weight"].sizes(), torch::IntArrayRef({10, 192}));
  EXPECT_NEAR(params["dist_token"].std().item<double>(), 0.02, 0.005);
  EXPECT_NEAR(params["head_dist.weight"].std().item<double>(), 0.02, 0.002);
  EXPECT_TRUE(torch::equal(params["head_dist.bias"], torch::zeros({10})));
}

TEST(DeiT, DistilledForwardAveragesTheTwoHeadsInBothModes) {
  torch::manual_seed(0);
  DeiT model(TinyOptions().depth(2).distillation_token(true));
  torch::Tensor images = torch::rand({3, 1, 4, 4});
  for (bool training : {true, false}) {
    model->train(training);
    auto [logits, dist_logits] = model->forward_heads(images);
    EXPECT_EQ(logits.sizes(), torch::IntArrayRef({3, 3}));
    EXPECT_TRUE(torch::equal(model(images), (logits + dist_logits) / 2)) << training;
  }
}

TEST(DeiTDeathTest, ForwardHeadsNeedsADistillationToken) {
  DeiT model(TinyOptions());
  EXPECT_DEATH(model->forward_heads(torch::rand({1, 1, 4, 4})), "needs a distillation token");
}

// The paper's Hybrid-DeiT (PAPER.md 3.12): ResNet-18 up to layer3 into DeiT-Mini, 224 px.
DeiTOptions PaperHybridOptions() {
  return DeiTOptions(1000).embed_dim(256).num_heads(4).hybrid_backbone(
      ResNetOptions(1000, {2, 2, 2}).block(ResNetOptions::Block::kBasic));
}

TEST(HybridDeiT, PaperConfigurationHasTheDerivedParameterCountAndNames) {
  torch::manual_seed(0);
  DeiT model(PaperHybridOptions());
  EXPECT_EQ(NumParameters(*model), 12633896);
  int64_t backbone = 0;
  auto params = model->named_parameters();
  for (const auto& item : params) {
    if (item.key().rfind("patch_embed.backbone.", 0) == 0) backbone += item.value().numel();
  }
  EXPECT_EQ(backbone, 2782784);
  EXPECT_EQ(model->num_patches(), 196);
  EXPECT_EQ(params["pos_embed"].sizes(), torch::IntArrayRef({1, 197, 256}));
  EXPECT_EQ(params["patch_embed.proj.weight"].sizes(), torch::IntArrayRef({256, 256}));
  for (const char* name : {"patch_embed.backbone.conv1.weight", "patch_embed.backbone.bn1.weight",
                           "patch_embed.backbone.layer1.0.conv1.weight",
                           "patch_embed.backbone.layer3.1.bn2.bias", "patch_embed.proj.bias",
                           "cls_token", "blocks.11.mlp.fc2.weight", "norm.weight", "head.bias"}) {
    EXPECT_TRUE(params.contains(name)) << name;
  }
  auto buffers = model->named_buffers();
  EXPECT_TRUE(buffers.contains("patch_embed.backbone.layer3.1.bn2.running_var"));
  EXPECT_TRUE(buffers.contains("normalize.mean"));
  EXPECT_FALSE(buffers.contains("patch_embed.backbone.normalize.mean"));
  EXPECT_FALSE(params.contains("patch_embed.backbone.fc.weight"));
  EXPECT_FALSE(params.contains("patch_embed.backbone.layer4.0.conv1.weight"));
  // Linear init for the projection, ResNet's kaiming fan_out init for the trunk's convs.
  EXPECT_NEAR(params["patch_embed.proj.weight"].std().item<double>(), 0.02, 0.001);
  EXPECT_NEAR(params["patch_embed.backbone.conv1.weight"].std().item<double>(),
              std::sqrt(2.0 / (64 * 49)), 0.002);
}

TEST(HybridDeiT, TwoHundredTwentyFourPixelsGiveOneHundredNinetySixTokens) {
  torch::manual_seed(0);
  DeiT model(PaperHybridOptions());
  model->eval();
  torch::NoGradGuard no_grad;
  torch::Tensor images = torch::rand({2, 3, 224, 224});
  auto* trunk = model->named_modules()["patch_embed.backbone"]->as<ResNetTrunkImpl>();
  ASSERT_NE(trunk, nullptr);
  EXPECT_EQ(trunk->forward_features(images).sizes(), torch::IntArrayRef({2, 256, 14, 14}));
  torch::Tensor logits = model(images);
  EXPECT_EQ(logits.sizes(), torch::IntArrayRef({2, 1000}));
  EXPECT_TRUE(logits.isfinite().all().item<bool>());
}

// A hybrid is a patch DeiT run on the trunk's feature map: with patch size 1 and the hybrid's
// Linear projection as a 1x1 conv, a patch-mode DeiT on the features gives the same logits. This
// pins the token order, the single Normalize before the trunk and the reuse of the encoder.
TEST(HybridDeiT, EqualsAPatchDeiTOnTheTrunkFeatures) {
  torch::manual_seed(0);
  // SMALL stem and one stage of width 4: stride 1, so 4x4 images give 16 tokens of 4 channels.
  DeiT hybrid(TinyOptions().patch_size(1).distillation_token(true).hybrid_backbone(
      ResNetOptions(1, {1})
          .block(ResNetOptions::Block::kBasic)
          .base_width(4)
          .stem(ResNetOptions::Stem::kSmall)
          .in_channels(1)));
  DeiT patch(TinyOptions().patch_size(1).distillation_token(true).in_channels(4).normalize(
      NormalizeOptions({0, 0, 0, 0}, {1, 1, 1, 1})));
  {
    torch::NoGradGuard no_grad;
    auto hybrid_params = hybrid->named_parameters();
    for (auto& item : patch->named_parameters()) {
      item.value().copy_(hybrid_params[item.key()].reshape(item.value().sizes()));
    }
  }
  hybrid->eval();
  patch->eval();
  torch::Tensor images = torch::rand({2, 1, 4, 4});
  torch::NoGradGuard no_grad;
  auto* trunk = hybrid->named_modules()["patch_embed.backbone"]->as<ResNetTrunkImpl>();
  torch::Tensor features = trunk->forward_features((images - 0.5) / 0.25);
  EXPECT_EQ(features.sizes(), torch::IntArrayRef({2, 4, 4, 4}));
  EXPECT_TRUE(torch::allclose(hybrid(images), patch(features), 1e-5, 1e-6));
}

TEST(HybridDeiTDeathTest, PatchSizeMustBeTheBackboneStride) {
  EXPECT_DEATH(DeiT(TinyOptions().hybrid_backbone(
                   ResNetOptions(1, {1}).stem(ResNetOptions::Stem::kSmall).in_channels(1))),
               "patch_size must equal the backbone's total stride");
}

}  // namespace
}  // namespace robustness
