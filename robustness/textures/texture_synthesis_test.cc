#include "robustness/textures/texture_synthesis.h"

#include <gtest/gtest.h>

#include "robustness/base/seed.h"

namespace robustness {
namespace {

VGG SmallVgg() {
  torch::manual_seed(5);
  VGG vgg(VGGOptions(3, 1).stage_convs({1, 1}).stage_widths({4, 8}).pool_size(1)
              .classifier_width(8).normalize(NormalizeOptions({0.3}, {0.4})));
  vgg->eval();
  return vgg;
}

proto::TextureSynthesisConfig Config(int iterations) {
  proto::TextureSynthesisConfig c;
  c.set_iterations(iterations);
  c.set_learning_rate(0.01);
  c.set_loss_scale(1e6);
  return c;
}

TEST(TextureSynthesisTest, MatchesTargetGramsInPixelRange) {
  VGG vgg = SmallVgg();
  torch::Generator data = MakeCpuGenerator(1);
  const torch::Tensor goal = torch::rand({2, 1, 8, 8}, data, torch::kFloat);
  std::vector<torch::Tensor> targets;
  {
    torch::NoGradGuard no_grad;
    targets = StyleGrams(*vgg, goal);
  }
  torch::Generator g0 = MakeCpuGenerator(2), g1 = MakeCpuGenerator(2);
  const SynthesisResult start = SynthesizeTextures(*vgg, targets, 8, Config(1), g0);
  const SynthesisResult end = SynthesizeTextures(*vgg, targets, 8, Config(300), g1);
  EXPECT_LT(end.final_loss.max().item<float>(), 0.1f * start.final_loss.min().item<float>());
  EXPECT_GE(end.textures.min().item<float>(), 0.0f);
  EXPECT_LE(end.textures.max().item<float>(), 1.0f);
  for (const auto& p : vgg->parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(TextureSynthesisTest, ABatchEqualsEachTextureAlone) {
  VGG vgg = SmallVgg();
  torch::Generator data = MakeCpuGenerator(3);
  const torch::Tensor goal = torch::rand({2, 1, 8, 8}, data, torch::kFloat);
  std::vector<torch::Tensor> targets, first;
  {
    torch::NoGradGuard no_grad;
    targets = StyleGrams(*vgg, goal);
    for (const auto& t : targets) first.push_back(t.narrow(0, 0, 1).contiguous());
  }
  // The first texture's starting noise is the first 64 normals either way.
  torch::Generator a = MakeCpuGenerator(4), b = MakeCpuGenerator(4);
  const SynthesisResult batch = SynthesizeTextures(*vgg, targets, 8, Config(50), a);
  const SynthesisResult alone = SynthesizeTextures(*vgg, first, 8, Config(50), b);
  EXPECT_TRUE(torch::allclose(batch.textures[0], alone.textures[0], 1e-4, 1e-5));
  EXPECT_NEAR(batch.final_loss[0].item<float>(), alone.final_loss[0].item<float>(),
              1e-3 * alone.final_loss[0].item<float>());
}

}  // namespace
}  // namespace robustness
