#include "robustness/attacks/training_pgd.h"

#include <string>

#include <torch/autograd.h>
#include <torch/nn/functional/loss.h>
#include <torch/types.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/attacks/internal/toy_models.h"
#include "robustness/base/seed.h"
#include "robustness/base/status_matchers.h"
#include "robustness/config/parse_text_proto.h"

namespace robustness {
namespace {

using attacks_internal::LinearClassifier;
using attacks_internal::SmallConvNet;
using ::testing::HasSubstr;

proto::AdversarialTraining Config(const std::string& start, int steps = 1) {
  return ParseTextProtoOrDie<proto::AdversarialTraining>(
      "norm: LINF epsilon { over_255: 4 } step_size { over_255: 4 } num_steps: " +
      std::to_string(steps) + " " + start);
}

TEST(TrainingPgd, OneStepFromCleanIsFgsmAndRaisesTheLoss) {
  // The paper's PGD-1 from the clean image with step = eps is FGSM: x + eps sign(grad).
  LinearClassifier model(1 * 6 * 6, 4, /*seed=*/1);
  torch::Generator gen = MakeCpuGenerator(1);
  const torch::Tensor x = torch::rand({8, 1, 6, 6}, gen) * 0.8 + 0.1;
  const torch::Tensor y = torch::randint(4, {8}, gen, torch::kLong);
  // clean_below 100: the coin (z > 100) never sends a batch to noise.
  const torch::Tensor adv = MakeTrainingAdversarialExamples(
      model, x, y, Config("per_batch_coin { clean_below: 100 }"), gen);
  torch::Tensor input = x.clone().requires_grad_(true);
  model.eval();
  const torch::Tensor loss = torch::nn::functional::cross_entropy(
      model.forward(input), y,
      torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
  const torch::Tensor grad = torch::autograd::grad({loss}, {input})[0];
  const torch::Tensor fgsm = (x + (4.0 / 255) * grad.sign()).clamp(0.0, 1.0);
  EXPECT_TRUE(torch::allclose(adv, fgsm, 0, 1e-6));
  torch::NoGradGuard no_grad;
  namespace F = torch::nn::functional;
  EXPECT_GT(F::cross_entropy(model.forward(adv), y).item<float>(),
            F::cross_entropy(model.forward(x), y).item<float>());
}

TEST(TrainingPgd, InTheBallAndBoxEvalModeRestoredParameterGradientsUntouched) {
  SmallConvNet model(1, 12, 10, /*seed=*/2);
  model.train();
  torch::Generator gen = MakeCpuGenerator(2);
  const torch::Tensor x = torch::rand({16, 1, 12, 12}, gen);
  const torch::Tensor y = torch::randint(10, {16}, gen, torch::kLong);
  // A gradient already accumulated by the caller (a micro-batch before this one).
  model.forward(x).sum().backward();
  std::vector<torch::Tensor> before;
  for (const auto& p : model.parameters()) before.push_back(p.grad().clone());
  const torch::Tensor adv =
      MakeTrainingAdversarialExamples(model, x, y, Config("per_image_uniform {}", 3), gen);
  EXPECT_TRUE(model.is_training());
  EXPECT_LE((adv - x).abs().max().item<float>(), 4.0f / 255 + 1e-6f);
  EXPECT_GE(adv.min().item<float>(), 0.0f);
  EXPECT_LE(adv.max().item<float>(), 1.0f);
  EXPECT_FALSE(adv.requires_grad());
  size_t i = 0;
  for (const auto& p : model.parameters()) EXPECT_TRUE(torch::equal(p.grad(), before[i++]));
}

TEST(TrainingPgd, ThePapersCoinStartsTheWholeBatchFromNoiseOrFromClean) {
  LinearClassifier model(1 * 4 * 4, 3, /*seed=*/3);
  const torch::Tensor x = torch::full({64, 1, 4, 4}, 0.5);
  const torch::Tensor y = torch::zeros({64}, torch::kLong);
  // Zero steps are not allowed, so look at the start through a step of ~0: a tiny step leaves
  // each image at its start up to 1e-7.
  proto::AdversarialTraining c = Config("per_batch_coin { clean_below: 0 }");
  c.mutable_step_size()->set_pixels(1e-7);
  int from_noise = 0;
  const int batches = 400;
  torch::Generator gen = MakeCpuGenerator(4);
  for (int b = 0; b < batches; ++b) {
    const torch::Tensor adv = MakeTrainingAdversarialExamples(model, x, y, c, gen);
    const double moved = (adv - x).abs().max().item<double>();
    const bool noise = moved > 1e-3;
    // Whole batch: either every image moved off x or none did.
    const int64_t images_moved = (adv - x).abs().view({64, -1}).amax(1).gt(1e-3).sum().item<int64_t>();
    EXPECT_TRUE(images_moved == 0 || images_moved == 64) << images_moved;
    from_noise += noise ? 1 : 0;
  }
  // P(z > 0) = 0.5; 400 batches: 5 sigma is 50.
  EXPECT_NEAR(from_noise, batches / 2, 50);
  // clean_below 0.2 (the ResNet's): P = 0.4207.
  c.mutable_per_batch_coin()->set_clean_below(0.2);
  from_noise = 0;
  for (int b = 0; b < batches; ++b) {
    from_noise += (MakeTrainingAdversarialExamples(model, x, y, c, gen) - x).abs().max().item<double>() > 1e-3;
  }
  EXPECT_NEAR(from_noise, 0.4207 * batches, 50);
}

TEST(TrainingPgd, SoftTargetsUseTheSoftCrossEntropyAndOneHotEqualsLabels) {
  SmallConvNet model(1, 12, 5, /*seed=*/5);
  torch::Generator data = MakeCpuGenerator(5);
  const torch::Tensor x = torch::rand({6, 1, 12, 12}, data);
  const torch::Tensor y = torch::randint(5, {6}, data, torch::kLong);
  const torch::Tensor one_hot = torch::one_hot(y, 5).to(torch::kFloat);
  const proto::AdversarialTraining c = Config("per_image_uniform {}", 2);
  torch::Generator g1 = MakeCpuGenerator(7), g2 = MakeCpuGenerator(7);
  const torch::Tensor hard = MakeTrainingAdversarialExamples(model, x, y, c, g1);
  const torch::Tensor soft = MakeTrainingAdversarialExamples(model, x, one_hot, c, g2);
  EXPECT_TRUE(torch::allclose(hard, soft, 0, 1e-6));
  // Same seed, same examples: deterministic.
  torch::Generator g3 = MakeCpuGenerator(7);
  EXPECT_TRUE(torch::equal(MakeTrainingAdversarialExamples(model, x, y, c, g3), hard));
}

TEST(ValidateAdversarialTraining, NamesTheFieldAndValue) {
  EXPECT_THAT(ValidateAdversarialTraining(Config("per_image_uniform {}"), "training.adversarial"),
              IsOk());
  proto::AdversarialTraining c = Config("per_image_uniform {}");
  c.mutable_epsilon()->set_pixels(4);
  EXPECT_THAT(ValidateAdversarialTraining(c, "training.adversarial"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("training.adversarial.epsilon: must be in (0, 1] pixel units, got 4")));
  c = Config("");
  EXPECT_THAT(ValidateAdversarialTraining(c, "training.adversarial"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("training.adversarial.start: must be set")));
  c = Config("per_image_uniform {}");
  c.set_num_steps(0);
  EXPECT_THAT(ValidateAdversarialTraining(c, "training.adversarial"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("training.adversarial.num_steps: must be >= 1, got 0")));
  c = Config("per_image_uniform {}");
  c.set_norm(proto::L2);
  EXPECT_THAT(ValidateAdversarialTraining(c, "training.adversarial"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("training.adversarial.norm: must be LINF")));
  c = Config("per_batch_coin {}");
  EXPECT_THAT(ValidateAdversarialTraining(c, "training.adversarial"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("per_batch_coin.clean_below: must be set")));
}

}  // namespace
}  // namespace robustness
