#include "robustness/attacks/internal/gradient_step.h"

#include <torch/types.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/status_matchers.h"
#include "robustness/attacks/internal/toy_models.h"
#include "robustness/base/seed.h"
#include "robustness/tensors/projection.h"

namespace robustness {
namespace attacks_internal {
namespace {

TEST(InputGradient, MatchesTheAnalyticCrossEntropyGradient) {
  LinearClassifier model(/*in_features=*/4, /*num_classes=*/3, /*seed=*/1);
  model.eval();
  torch::Generator gen = MakeCpuGenerator(1);
  torch::Tensor x = torch::rand({5, 1, 2, 2}, gen);
  torch::Tensor y = torch::randint(3, {5}, gen, torch::kLong);
  ObjectiveGradient out = InputGradient(model, x, y, /*targeted=*/false);
  // d CE / d x = W^T (softmax - onehot) / 0.25 for logits = W (x - 0.5) / 0.25 + b.
  torch::Tensor logits = model.forward(x).detach();
  torch::Tensor residual = logits.softmax(1) - torch::one_hot(y, 3).to(torch::kFloat);
  torch::Tensor expected = residual.matmul(model.fc->weight.detach()).view({5, 1, 2, 2}) / 0.25;
  EXPECT_TRUE(torch::allclose(out.gradient, expected, 1e-4, 1e-6));
  EXPECT_TRUE(torch::allclose(out.loss, -logits.log_softmax(1).gather(1, y.view({5, 1})).view(5)));
  // Targeted flips the sign; parameters never receive a gradient.
  EXPECT_TRUE(torch::equal(InputGradient(model, x, y, /*targeted=*/true).gradient, -out.gradient));
  for (const auto& p : model.parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(InputGradient, WorksInsideNoGradGuard) {
  LinearClassifier model(4, 3, 2);
  model.eval();
  torch::NoGradGuard no_grad;
  torch::Tensor g = InputGradient(model, torch::full({2, 1, 2, 2}, 0.5),
                                  torch::tensor({0L, 1L}), false).gradient;
  EXPECT_GT(g.abs().sum().item<float>(), 0.0f);
}

TEST(AscentDirection, SignForLinfUnitNormForL2) {
  torch::Tensor g = torch::tensor({0.5f, -2.0f, 0.0f, 0.0f}).view({2, 1, 1, 2});
  EXPECT_TRUE(torch::equal(AscentDirection(LpNorm::kLinf, g),
                           torch::tensor({1.0f, -1.0f, 0.0f, 0.0f}).view({2, 1, 1, 2})));
  torch::Tensor d = AscentDirection(LpNorm::kL2, g);
  EXPECT_NEAR(PerImageL2Norm(d)[0].item<float>(), 1.0f, 1e-6);
  EXPECT_EQ(d[1].abs().sum().item<float>(), 0.0f);  // Zero gradient: no step, no NaN.
}

TEST(AscentStep, StepsThenProjects) {
  torch::Tensor images = torch::full({1, 1, 1, 2}, 0.95f);
  torch::Tensor g = torch::tensor({1.0f, -1.0f}).view({1, 1, 1, 2});
  torch::Tensor x = AscentStep(LpNorm::kLinf, images, g, /*step=*/0.5, images, /*eps=*/0.1);
  EXPECT_TRUE(torch::allclose(x, torch::tensor({1.0f, 0.85f}).view({1, 1, 1, 2})));
}

TEST(ValidateNorm, NamesFieldAndValue) {
  EXPECT_THAT(ValidateNorm(proto::LINF, "a.norm"), IsOk());
  EXPECT_THAT(ValidateNorm(proto::L2, "a.norm"), IsOk());
  EXPECT_THAT(ValidateNorm(proto::NORM_UNSPECIFIED, "a.norm"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::Eq("a.norm: must be LINF or L2, got NORM_UNSPECIFIED")));
  EXPECT_THAT(ValidateNorm(static_cast<proto::Norm>(7), "a.norm"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::Eq("a.norm: must be LINF or L2, got 7")));
}

TEST(ToLpNorm, MapsTheProtoEnum) {
  EXPECT_EQ(ToLpNorm(proto::LINF), LpNorm::kLinf);
  EXPECT_EQ(ToLpNorm(proto::L2), LpNorm::kL2);
}

}  // namespace
}  // namespace attacks_internal
}  // namespace robustness
