#include "robustness/tensors/projection.h"

#include <torch/types.h>

#include "gtest/gtest.h"
#include "robustness/base/seed.h"

namespace robustness {
namespace {

constexpr double kEps = 0.1;

float MaxAbs(const torch::Tensor& t) { return t.abs().max().item<float>(); }

TEST(ProjectLinf, LandsInBallAndImageRange) {
  torch::Generator gen = MakeCpuGenerator(1);
  torch::Tensor x = torch::rand({4, 3, 5, 5}, gen);
  torch::Tensor far = x + torch::randn({4, 3, 5, 5}, gen);
  torch::Tensor p = ProjectLinf(far, x, kEps);
  EXPECT_LE(MaxAbs(p - x), kEps + 1e-6);
  EXPECT_GE(p.min().item<float>(), 0.0f);
  EXPECT_LE(p.max().item<float>(), 1.0f);
  // Far points are pulled onto the boundary, not towards x.
  EXPECT_NEAR(MaxAbs(p - x), kEps, 1e-6);
  // Points inside the ball and the image range are fixed points.
  torch::Tensor inside = ProjectLinf(x + 0.5 * (p - x), x, kEps);
  EXPECT_TRUE(torch::equal(ProjectLinf(inside, x, kEps), inside));
}

TEST(ProjectL2, RenormalisesEachImageAndClamps) {
  torch::Generator gen = MakeCpuGenerator(2);
  torch::Tensor x = torch::rand({6, 1, 4, 4}, gen);
  torch::Tensor delta = torch::randn({6, 1, 4, 4}, gen);
  delta[0].mul_(1e-3);  // One image already inside the ball.
  torch::Tensor p = ProjectL2(x + delta, x, kEps);
  torch::Tensor norms = PerImageL2Norm(p - x);
  EXPECT_LE(norms.max().item<float>(), kEps + 1e-6);
  EXPECT_GE(p.min().item<float>(), 0.0f);
  EXPECT_LE(p.max().item<float>(), 1.0f);
  EXPECT_TRUE(torch::allclose(p[0], (x[0] + delta[0]).clamp(0, 1)));
  // Without clamping in play the direction is kept and the norm is exactly eps.
  torch::Tensor mid = torch::full({1, 1, 4, 4}, 0.5);
  torch::Tensor d = torch::randn({1, 1, 4, 4}, gen);
  torch::Tensor q = ProjectL2(mid + d, mid, kEps);
  EXPECT_NEAR(PerImageL2Norm(q - mid).item<float>(), kEps, 1e-6);
  EXPECT_TRUE(torch::allclose(q - mid, d * (kEps / d.norm().item<double>()), 1e-4, 1e-7));
}

TEST(PerImageL2Norm, NormsEachImageAndNormaliseKeepsZeros) {
  torch::Tensor x = torch::zeros({2, 1, 2, 2});
  x[1][0][0][0] = 3.0;
  x[1][0][1][1] = 4.0;
  EXPECT_TRUE(torch::allclose(PerImageL2Norm(x), torch::tensor({0.0f, 5.0f})));
  torch::Tensor n = NormalizePerImageL2(x);
  EXPECT_EQ(n[0].abs().sum().item<float>(), 0.0f);
  EXPECT_NEAR(PerImageL2Norm(n)[1].item<float>(), 1.0f, 1e-6);
}

TEST(RandomInBall, LinfIsUniformInsideTheBall) {
  torch::Generator gen = MakeCpuGenerator(3);
  torch::Tensor d = RandomInBall(LpNorm::kLinf, torch::empty({8, 3, 8, 8}), kEps, gen);
  EXPECT_EQ(d.sizes(), torch::IntArrayRef({8, 3, 8, 8}));
  EXPECT_LE(MaxAbs(d), kEps);
  EXPECT_GT(MaxAbs(d), 0.95 * kEps);               // Reaches the faces.
  EXPECT_NEAR(d.mean().item<float>(), 0.0, 0.01);  // Centred.
  EXPECT_NEAR(d.abs().mean().item<float>(), kEps / 2, 0.01);  // |U[-e, e]| has mean e/2.
}

TEST(RandomInBall, L2IsInsideTheBallPerImageAndSeeded) {
  torch::Generator gen = MakeCpuGenerator(4);
  torch::Tensor like = torch::empty({16, 1, 2, 2});  // d = 4: radii spread over (0, eps).
  torch::Tensor d = RandomInBall(LpNorm::kL2, like, kEps, gen);
  torch::Tensor norms = PerImageL2Norm(d);
  EXPECT_LE(norms.max().item<float>(), kEps + 1e-6);
  EXPECT_LT(norms.min().item<float>(), 0.9 * kEps);
  EXPECT_GT(norms.max().item<float>(), 0.9 * kEps);
  torch::Generator same = MakeCpuGenerator(4);
  EXPECT_TRUE(torch::equal(RandomInBall(LpNorm::kL2, like, kEps, same), d));
  EXPECT_FALSE(torch::equal(RandomInBall(LpNorm::kL2, like, kEps, gen), d));
}

}  // namespace
}  // namespace robustness
