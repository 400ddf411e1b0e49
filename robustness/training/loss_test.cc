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

}  // namespace
}  // namespace robustness
