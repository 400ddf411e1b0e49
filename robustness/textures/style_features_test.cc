#include "robustness/textures/style_features.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace robustness {
namespace {

TEST(StyleFeaturesTest, GramIsTheSumOfOuterProducts) {
  const torch::Tensor f = torch::arange(12, torch::kFloat).view({1, 2, 2, 3});
  // Rows 0..5 and 6..11: <a,a> = 55, <a,b> = 145, <b,b> = 451.
  EXPECT_TRUE(torch::equal(Gram(f), torch::tensor({55.f, 145.f, 145.f, 451.f}).view({1, 2, 2})));
}

TEST(StyleFeaturesTest, AttentionGramScalesTheMaskedMeanToTheFullMap) {
  torch::manual_seed(0);
  const torch::Tensor f = torch::randn({2, 3, 4, 5});
  const torch::Tensor all = torch::ones({2, 4, 5}, torch::kBool);
  EXPECT_TRUE(torch::allclose(AttentionGram(f, all), Gram(f)));
  torch::Tensor one = torch::zeros({2, 4, 5}, torch::kBool);
  one.index_put_({0, 1, 2}, true);
  one.index_put_({1, 3, 4}, true);
  const torch::Tensor g = AttentionGram(f, one);
  const torch::Tensor p = f.index({0, torch::indexing::Slice(), 1, 2});
  EXPECT_TRUE(torch::allclose(g[0], 20 * torch::outer(p, p)));
}

TEST(StyleFeaturesTest, MasksThresholdTheMinMaxNormalisedMapAndFlagConstantOnes) {
  torch::Tensor cam = torch::zeros({2, 2, 2});
  cam.index_put_({0, 0, 0}, 1.0);  // one hot corner
  const CamMasks m = MasksFromCam(cam, {{2, 2}, {4, 4}}, 0.8);
  EXPECT_FALSE(m.degenerate[0].item<bool>());
  EXPECT_TRUE(m.degenerate[1].item<bool>());
  EXPECT_EQ(m.masks[0][0].sum().item<int64_t>(), 1);
  EXPECT_TRUE(m.masks[0][0][0][0].item<bool>());
  // Upsampled x2 with half-pixel centres: only the corner pixel stays >= 0.8 after min-max.
  EXPECT_EQ(m.masks[1][0].sum().item<int64_t>(), 1);
  EXPECT_EQ(m.masks[1][1].sum().item<int64_t>(), 0);  // constant map: empty mask
}

TEST(StyleFeaturesTest, GradCamIsPerImageAndNonNegative) {
  torch::manual_seed(3);
  VGG vgg(VGGOptions(4, 1).stage_convs({1, 1}).stage_widths({4, 8}).pool_size(1)
              .classifier_width(16).normalize(NormalizeOptions({0.5}, {0.5})));
  vgg->eval();
  const torch::Tensor x = torch::rand({3, 1, 8, 8});
  const torch::Tensor classes = torch::tensor({0, 2, 3}, torch::kLong);
  const torch::Tensor cam = GradCam(*vgg, x, classes);
  EXPECT_THAT(cam.sizes(), ::testing::ElementsAre(3, 4, 4));
  EXPECT_GE(cam.min().item<float>(), 0.0f);
  const torch::Tensor alone = GradCam(*vgg, x.narrow(0, 1, 1), classes.narrow(0, 1, 1));
  EXPECT_TRUE(torch::allclose(alone[0], cam[1], 1e-5, 1e-6));
  // The definition, by autograd through the whole network.
  torch::Tensor a = vgg->FeatureMaps(x.narrow(0, 2, 1), {vgg->CamLayer()}, false)[0].detach();
  a.requires_grad_(true);
  vgg->LogitsFrom(a, vgg->CamLayer())[0][3].backward();
  const torch::Tensor expected = torch::relu((a.grad().mean({2, 3}, true) * a).sum(1))[0];
  EXPECT_TRUE(torch::allclose(cam[2], expected.detach(), 1e-5, 1e-6));
}

}  // namespace
}  // namespace robustness
