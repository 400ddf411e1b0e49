#include "robustness/models/resnet.h"

#include <cstdint>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/utils.h>

#include "robustness/models/ghost_batch_norm.h"

namespace robustness {
namespace {

using Block = ResNetOptions::Block;
using Stem = ResNetOptions::Stem;
using Activation = ResNetOptions::Activation;
using Norm = ResNetOptions::Norm;

int64_t NumParameters(const torch::nn::Module& module) {
  int64_t total = 0;
  for (const auto& p : module.parameters()) total += p.numel();
  return total;
}

ResNetOptions TinyOptions() {
  return ResNetOptions(10, {2, 2, 2, 2})
      .block(Block::kBasic)
      .base_width(8)
      .stem(Stem::kSmall)
      .in_channels(1)
      .normalize(NormalizeOptions({0.5}, {0.5}));
}

TEST(ResNet, ParameterCountsMatchTorchvision) {
  ResNet resnet18(ResNetOptions(1000, {2, 2, 2, 2}).block(Block::kBasic));
  EXPECT_EQ(NumParameters(*resnet18), 11689512);
  EXPECT_EQ(NumParameters(*ResNet(ResNetOptions(1000, {3, 4, 6, 3}))), 25557032);
  EXPECT_EQ(NumParameters(*ResNet(ResNetOptions(1000, {3, 4, 23, 3}))), 44549160);
  EXPECT_EQ(NumParameters(*ResNet(ResNetOptions(1000, {3, 24, 36, 3}))), 64673832);
}

TEST(ResNet, ImageNetStemGivesLogitsPerImage) {
  torch::manual_seed(0);
  ResNet model(ResNetOptions(7, {1, 1, 1, 1}).block(Block::kBottleneck).base_width(8));
  torch::Tensor logits = model(torch::rand({2, 3, 64, 64}));
  EXPECT_EQ(logits.sizes(), torch::IntArrayRef({2, 7}));
  EXPECT_TRUE(logits.isfinite().all().item<bool>());
  EXPECT_EQ(model->num_features(), 8 * 8 * 4);
}

TEST(ResNet, SmallStemRunsOnFashionMnistShape) {
  torch::manual_seed(0);
  ResNet model(TinyOptions());
  torch::Tensor logits = model(torch::rand({2, 1, 28, 28}));
  EXPECT_EQ(logits.sizes(), torch::IntArrayRef({2, 10}));
  EXPECT_TRUE(logits.isfinite().all().item<bool>());
}

TEST(ResNet, GeluVariantHasSameParametersButDifferentOutputs) {
  torch::manual_seed(1);
  ResNet relu(TinyOptions());
  torch::manual_seed(1);
  ResNet gelu(TinyOptions().activation(Activation::kGELU));
  relu->eval();
  gelu->eval();

  EXPECT_EQ(NumParameters(*relu), NumParameters(*gelu));
  torch::Tensor images = torch::rand({2, 1, 28, 28});
  EXPECT_TRUE(torch::equal(relu->named_parameters()["conv1.weight"],
                           gelu->named_parameters()["conv1.weight"]));
  EXPECT_FALSE(torch::allclose(relu(images), gelu(images)));
}

TEST(ResNet, StrideSitsOnTheThreeByThreeConvOfBottlenecks) {
  ResNet model(ResNetOptions(10, {1, 1}).base_width(4));
  auto modules = model->named_modules();
  auto stride = [&](const std::string& name) {
    return modules[name]->as<torch::nn::Conv2dImpl>()->options.stride()->at(0);
  };
  EXPECT_EQ(stride("layer2.0.conv1"), 1);
  EXPECT_EQ(stride("layer2.0.conv2"), 2);
  EXPECT_EQ(stride("layer2.0.conv3"), 1);
  EXPECT_EQ(stride("layer2.0.downsample.0"), 2);
  EXPECT_TRUE(modules.contains("layer1.0.downsample"));  // 4 -> 16 channels.
}

TEST(ResNet, ParameterNamesFollowTorchvision) {
  ResNet model(ResNetOptions(10, {2, 2}).block(Block::kBasic).base_width(4));
  auto params = model->named_parameters();
  for (const char* name :
       {"conv1.weight", "bn1.weight", "layer1.1.conv2.weight", "layer2.0.downsample.0.weight",
        "layer2.0.downsample.1.bias", "fc.weight", "fc.bias"}) {
    EXPECT_TRUE(params.contains(name)) << name;
  }
  EXPECT_FALSE(model->named_modules().contains("layer1.0.downsample"));
  EXPECT_TRUE(model->named_buffers().contains("normalize.mean"));
}

TEST(ResNet, ConvsUseKaimingFanOutAndBatchNormStartsAtIdentity) {
  torch::manual_seed(0);
  ResNet model(ResNetOptions(10, {1}).block(Block::kBasic).base_width(64));
  auto params = model->named_parameters();
  // conv1 [64, 3, 7, 7]: fan_out = 64 * 49, std = sqrt(2 / fan_out) ~= 0.0253.
  const double std = params["conv1.weight"].std().item<double>();
  EXPECT_NEAR(std, std::sqrt(2.0 / (64 * 49)), 0.002);
  EXPECT_TRUE(torch::equal(params["bn1.weight"], torch::ones({64})));
  EXPECT_TRUE(torch::equal(params["layer1.0.bn2.bias"], torch::zeros({64})));
}

TEST(ResNet, NormalisesInsideForward) {
  torch::manual_seed(3);
  ResNet half(TinyOptions());
  torch::manual_seed(3);
  ResNet identity(TinyOptions().normalize(NormalizeOptions({0.0}, {1.0})));
  half->eval();
  identity->eval();
  torch::Tensor images = torch::rand({2, 1, 28, 28});
  EXPECT_TRUE(torch::allclose(half(images), identity((images - 0.5) / 0.5), 1e-4, 1e-5));
}

TEST(ResNet, GhostBatchNormReplacesEveryBatchNormUnderTheSameNames) {
  ResNet plain(ResNetOptions(10, {1, 1}).block(Block::kBasic).base_width(4));
  ResNet ghost(ResNetOptions(10, {1, 1})
                   .block(Block::kBasic)
                   .base_width(4)
                   .norm(Norm::kGhostBatchNorm)
                   .virtual_batch_size(2));
  EXPECT_EQ(ghost->named_parameters().keys(), plain->named_parameters().keys());
  EXPECT_EQ(ghost->named_buffers().keys(), plain->named_buffers().keys());
  int ghost_layers = 0;
  for (const auto& item : ghost->named_modules()) {
    EXPECT_EQ(item.value()->as<torch::nn::BatchNorm2dImpl>(), nullptr) << item.key();
    if (item.value()->as<GhostBatchNorm2dImpl>() != nullptr) ++ghost_layers;
  }
  EXPECT_EQ(ghost_layers, 1 + 2 + 3);  // bn1; layer1.0: bn1, bn2; layer2.0: bn1, bn2, downsample.1
}

TEST(ResNet, GhostBatchNormDiffersFromBatchNormOnlyInTrainingWithSmallVirtualBatches) {
  auto options = [](Norm norm, int64_t virtual_batch_size) {
    return TinyOptions().stage_depths({1, 1}).norm(norm).virtual_batch_size(virtual_batch_size);
  };
  torch::manual_seed(5);
  ResNet plain(options(Norm::kBatchNorm, 0));
  torch::manual_seed(5);
  ResNet whole(options(Norm::kGhostBatchNorm, 4));  // One chunk for the 4 images below.
  torch::manual_seed(5);
  ResNet ghost(options(Norm::kGhostBatchNorm, 2));
  torch::Tensor images = torch::rand({4, 1, 12, 12});
  torch::Tensor plain_train = plain(images);
  EXPECT_TRUE(torch::equal(whole(images), plain_train));
  EXPECT_FALSE(torch::allclose(ghost(images), plain_train, 1e-3, 1e-3));
  // Eval: all three normalise with running statistics; copy plain's into ghost to compare.
  {
    torch::NoGradGuard no_grad;
    auto buffers = ghost->named_buffers();
    for (const auto& item : plain->named_buffers()) buffers[item.key()].copy_(item.value());
  }
  plain->eval();
  ghost->eval();
  EXPECT_TRUE(torch::equal(ghost(images), plain(images)));
}

TEST(ResNetTrunk, ResNet18UpToLayer3IsHybridDeiTsBackbone) {
  ResNetTrunk trunk(ResNetOptions(1000, {2, 2, 2}).block(Block::kBasic));
  EXPECT_EQ(NumParameters(*trunk), 2782784);
  EXPECT_EQ(trunk->stride(), 16);
  EXPECT_EQ(trunk->num_features(), 256);
  auto params = trunk->named_parameters();
  for (const char* name : {"conv1.weight", "bn1.weight", "layer1.0.conv1.weight",
                           "layer3.0.downsample.0.weight", "layer3.1.bn2.bias"}) {
    EXPECT_TRUE(params.contains(name)) << name;
  }
  EXPECT_TRUE(trunk->named_buffers().contains("layer3.1.bn2.running_var"));
  EXPECT_FALSE(trunk->named_buffers().contains("normalize.mean"));
  EXPECT_FALSE(params.contains("fc.weight"));
  EXPECT_FALSE(trunk->named_modules().contains("layer4"));
}

TEST(ResNetTrunk, FeatureMapShapeFollowsTheStride) {
  torch::manual_seed(0);
  ResNetTrunk imagenet(ResNetOptions(1, {1, 1, 1}).block(Block::kBasic).base_width(4));
  EXPECT_EQ(imagenet->stride(), 16);
  EXPECT_EQ(imagenet->forward_features(torch::randn({2, 3, 64, 64})).sizes(),
            torch::IntArrayRef({2, 16, 4, 4}));
  // Odd sizes round up at every stride-2 layer: 30 -> 15 -> 8 -> 4 -> 2.
  EXPECT_EQ(imagenet->forward_features(torch::randn({1, 3, 30, 30})).sizes(),
            torch::IntArrayRef({1, 16, 2, 2}));
  ResNetTrunk small(TinyOptions().stage_depths({1, 1}));
  EXPECT_EQ(small->stride(), 2);
  EXPECT_EQ(small->forward_features(torch::randn({2, 1, 28, 28})).sizes(),
            torch::IntArrayRef({2, 16, 14, 14}));
}

// The trunk is the ResNet minus Normalize, pool and fc: with the ResNet's weights loaded by name,
// pooling its features through the ResNet's fc gives the ResNet's logits.
TEST(ResNetTrunk, LoadsResNetWeightsByNameAndComputesTheSameFeatures) {
  torch::manual_seed(1);
  ResNet resnet(TinyOptions().stage_depths({1, 2}).block(Block::kBottleneck));
  ResNetTrunk trunk(TinyOptions().stage_depths({1, 2}).block(Block::kBottleneck));
  {
    torch::NoGradGuard no_grad;
    auto resnet_params = resnet->named_parameters();
    for (auto& item : trunk->named_parameters()) item.value().copy_(resnet_params[item.key()]);
    EXPECT_EQ(trunk->named_parameters().size() + 2, resnet_params.size());  // + fc.weight, .bias
  }
  resnet->eval();
  trunk->eval();
  torch::Tensor images = torch::rand({2, 1, 16, 16});
  torch::NoGradGuard no_grad;
  torch::Tensor features = trunk->forward_features((images - 0.5) / 0.5);
  auto fc = resnet->named_parameters();
  torch::Tensor logits = torch::matmul(features.mean({2, 3}), fc["fc.weight"].t()) + fc["fc.bias"];
  EXPECT_TRUE(torch::allclose(logits, resnet(images), 1e-5, 1e-6));
}

}  // namespace
}  // namespace robustness
