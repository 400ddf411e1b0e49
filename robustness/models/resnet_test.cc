#include "robustness/models/resnet.h"

#include <cstdint>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/nn/modules/conv.h>
#include <torch/utils.h>

namespace robustness {
namespace {

using Block = ResNetOptions::Block;
using Stem = ResNetOptions::Stem;
using Activation = ResNetOptions::Activation;

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

}  // namespace
}  // namespace robustness
