#include "robustness/attacks/fgsm.h"

#include <torch/types.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/attacks/internal/toy_models.h"
#include "robustness/base/seed.h"
#include "robustness/base/status_matchers.h"
#include "robustness/config/parse_text_proto.h"
#include "robustness/tensors/projection.h"

namespace robustness {
namespace {

using attacks_internal::LinearClassifier;
using ::testing::Eq;

constexpr double kEps = 0.1;

proto::FgsmConfig Config(const char* text) {
  return ParseTextProtoOrDie<proto::FgsmConfig>(text);
}

class FgsmTest : public ::testing::Test {
 protected:
  void SetUp() override { model_.eval(); }
  torch::Tensor Loss(const torch::Tensor& x, const torch::Tensor& y) {
    return -model_.forward(x).log_softmax(1).gather(1, y.view({-1, 1})).view(-1);
  }
  LinearClassifier model_{/*in_features=*/16, /*num_classes=*/4, /*seed=*/7};
  torch::Generator gen_ = MakeCpuGenerator(7);
  torch::Tensor images_ = torch::rand({32, 1, 4, 4}, gen_);
  torch::Tensor labels_ = torch::randint(4, {32}, gen_, torch::kLong);
};

TEST_F(FgsmTest, LinfMovesEveryFreePixelByEpsilonAndRaisesTheLoss) {
  Fgsm fgsm("FGSM", Config("norm: LINF target_mode: UNTARGETED"), kEps);
  torch::Tensor x = fgsm.Perturb(model_, images_, labels_, gen_);
  torch::Tensor delta = (x - images_).abs();
  EXPECT_LE(delta.max().item<float>(), kEps + 1e-6);
  EXPECT_GE(x.min().item<float>(), 0.0f);
  EXPECT_LE(x.max().item<float>(), 1.0f);
  torch::Tensor free = images_.gt(kEps) & images_.lt(1 - kEps);  // No [0, 1] clipping here.
  EXPECT_TRUE(torch::allclose(delta.masked_select(free), torch::full({1}, kEps), 0, 1e-6));
  EXPECT_TRUE((Loss(x, labels_) > Loss(images_, labels_)).all().item<bool>());
}

TEST_F(FgsmTest, L2StepHasNormEpsilonAwayFromTheImageBorder) {
  Fgsm fgsm("FGM-L2", Config("norm: L2 target_mode: UNTARGETED"), kEps);
  torch::Tensor mid = 0.3 + 0.4 * images_;  // delta <= eps per pixel: clamping never bites.
  torch::Tensor x = fgsm.Perturb(model_, mid, labels_, gen_);
  torch::Tensor norms = PerImageL2Norm(x - mid);
  EXPECT_LE(norms.max().item<float>(), kEps + 1e-6);
  EXPECT_GE(norms.min().item<float>(), kEps - 1e-6);
  EXPECT_TRUE((Loss(x, labels_) > Loss(mid, labels_)).all().item<bool>());
}

TEST_F(FgsmTest, TargetedLowersTheTargetLoss) {
  Fgsm fgsm("FGSM-LL", Config("norm: LINF target_mode: TARGET_LEAST_LIKELY"), kEps);
  torch::Tensor target = model_.forward(images_).argmin(1);
  torch::Tensor x = fgsm.Perturb(model_, images_, labels_, gen_);
  EXPECT_TRUE((Loss(x, target) < Loss(images_, target)).all().item<bool>());
  EXPECT_EQ(fgsm.name(), "FGSM-LL");
}

TEST_F(FgsmTest, RestoresTrainingAndLeavesParameterGradsAlone) {
  model_.train();
  model_.fc->weight.mutable_grad() = torch::ones_like(model_.fc->weight);
  Fgsm fgsm("FGSM", Config("norm: LINF target_mode: TARGET_RANDOM_OTHER"), kEps);
  torch::Generator a = MakeCpuGenerator(1), b = MakeCpuGenerator(1);
  torch::Tensor in_train = fgsm.Perturb(model_, images_, labels_, a);
  EXPECT_TRUE(model_.is_training());
  for (const auto& m : model_.modules(/*include_self=*/false)) EXPECT_TRUE(m->is_training());
  EXPECT_TRUE(torch::equal(model_.fc->weight.grad(), torch::ones_like(model_.fc->weight)));
  EXPECT_FALSE(model_.fc->bias.grad().defined());
  model_.eval();  // Dropout would change the gradient if Perturb had not switched to eval.
  EXPECT_TRUE(torch::equal(fgsm.Perturb(model_, images_, labels_, b), in_train));
}

TEST(ValidateFgsmConfig, NamesFieldAndValue) {
  EXPECT_THAT(ValidateFgsmConfig(Config("norm: L2 target_mode: UNTARGETED"), "attack.fgsm"),
              IsOk());
  EXPECT_THAT(ValidateFgsmConfig(Config("target_mode: UNTARGETED"), "attack.fgsm"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       Eq("attack.fgsm.norm: must be LINF or L2, got NORM_UNSPECIFIED")));
  EXPECT_THAT(ValidateFgsmConfig(Config("norm: LINF"), "attack.fgsm"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       Eq("attack.fgsm.target_mode: must be UNTARGETED, TARGET_RANDOM_OTHER or "
                          "TARGET_LEAST_LIKELY, got TARGET_MODE_UNSPECIFIED")));
}

}  // namespace
}  // namespace robustness
