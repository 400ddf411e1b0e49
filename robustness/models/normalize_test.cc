#include "robustness/models/normalize.h"

#include <gtest/gtest.h>
#include <torch/nn/module.h>

namespace robustness {
namespace {

TEST(Normalize, SubtractsMeanAndDividesByStdPerChannel) {
  Normalize normalize(NormalizeOptions({0.5, 0.25}, {0.5, 2.0}));
  torch::Tensor images = torch::ones({1, 2, 2, 3});
  images.select(1, 1).fill_(0.75);

  torch::Tensor out = normalize(images);

  ASSERT_EQ(out.sizes(), images.sizes());
  EXPECT_TRUE(torch::allclose(out.select(1, 0), torch::full({1, 2, 3}, 1.0)));   // (1-0.5)/0.5
  EXPECT_TRUE(torch::allclose(out.select(1, 1), torch::full({1, 2, 3}, 0.25)));  // (0.75-0.25)/2
}

TEST(Normalize, StatisticsAreBuffersNotParameters) {
  Normalize normalize(
      NormalizeOptions(NormalizeOptions::ImageNetMean(), NormalizeOptions::ImageNetStd()));

  EXPECT_TRUE(normalize->parameters().empty());
  auto buffers = normalize->named_buffers();
  ASSERT_EQ(buffers.size(), 2u);
  EXPECT_EQ(buffers["mean"].sizes(), torch::IntArrayRef({1, 3, 1, 1}));
  EXPECT_EQ(buffers["std"].sizes(), torch::IntArrayRef({1, 3, 1, 1}));
  EXPECT_FLOAT_EQ(buffers["std"][0][2][0][0].item<float>(), 0.225f);
}

TEST(Normalize, HalfStatisticsMapUnitIntervalToPlusMinusOne) {
  Normalize normalize(NormalizeOptions({0.5}, {0.5}));
  torch::Tensor out = normalize(torch::tensor({0.0f, 1.0f}).reshape({2, 1, 1, 1}));
  EXPECT_FLOAT_EQ(out[0].item<float>(), -1.0f);
  EXPECT_FLOAT_EQ(out[1].item<float>(), 1.0f);
}

TEST(NormalizeDeathTest, RejectsNonPositiveStd) {
  EXPECT_DEATH(Normalize(NormalizeOptions({0.5}, {0.0})), "std must be > 0");
}

}  // namespace
}  // namespace robustness
