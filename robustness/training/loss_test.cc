#include "robustness/training/loss.h"

#include <ATen/ATen.h>

#include "gtest/gtest.h"

namespace robustness {
namespace {

TEST(SmoothedCrossEntropy, ZeroSmoothingIsCrossEntropy) {
  at::manual_seed(0);
  at::Tensor logits = at::randn({5, 4});
  at::Tensor labels = at::tensor({0, 3, 1, 2, 2}, at::kLong);
  at::Tensor expected = at::cross_entropy_loss(logits, labels);
  EXPECT_NEAR(SmoothedCrossEntropy(logits, labels, 0.0).item<float>(), expected.item<float>(),
              1e-6);
}

TEST(SmoothedCrossEntropy, MatchesSoftTargetFormula) {
  at::manual_seed(1);
  at::Tensor logits = at::randn({3, 5});
  at::Tensor labels = at::tensor({4, 0, 2}, at::kLong);
  const double s = 0.1;
  at::Tensor targets = at::full({3, 5}, s / 5) + (1 - s) * at::one_hot(labels, 5).to(at::kFloat);
  at::Tensor expected = -(targets * at::log_softmax(logits, 1)).sum(1).mean();
  EXPECT_NEAR(SmoothedCrossEntropy(logits, labels, s).item<float>(), expected.item<float>(), 1e-6);
}

TEST(SoftTargetCrossEntropy, EqualsSmoothedCrossEntropyOnSmoothedOneHotAndMixesLinearly) {
  at::manual_seed(2);
  at::Tensor logits = at::randn({4, 6});
  at::Tensor a = at::tensor({1, 5, 0, 3}, at::kLong), b = at::tensor({2, 2, 4, 0}, at::kLong);
  const double s = 0.1;
  auto smooth = [&](const at::Tensor& y) {
    return at::full({4, 6}, s / 6) + (1 - s) * at::one_hot(y, 6).to(at::kFloat);
  };
  EXPECT_NEAR(SoftTargetCrossEntropy(logits, smooth(a)).item<float>(),
              SmoothedCrossEntropy(logits, a, s).item<float>(), 1e-6);
  // A MixUp target lam * t(a) + (1 - lam) * t(b) gives the same mix of the two losses.
  const double lam = 0.3;
  EXPECT_NEAR(SoftTargetCrossEntropy(logits, lam * smooth(a) + (1 - lam) * smooth(b)).item<float>(),
              lam * SmoothedCrossEntropy(logits, a, s).item<float>() +
                  (1 - lam) * SmoothedCrossEntropy(logits, b, s).item<float>(),
              1e-5);
}

}  // namespace
}  // namespace robustness
