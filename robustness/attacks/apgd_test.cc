#include "robustness/attacks/apgd.h"

#include <cmath>
#include <functional>
#include <tuple>
#include <utility>
#include <string>
#include <vector>

#include <torch/types.h>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "robustness/attacks/internal/toy_models.h"
#include "robustness/attacks/pgd.h"
#include "robustness/base/seed.h"
#include "robustness/base/status_matchers.h"
#include "robustness/config/parse_text_proto.h"
#include "robustness/tensors/projection.h"

namespace robustness {
namespace {

using attacks_internal::LinearClassifier;
using attacks_internal::SmallConvNet;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ApgdCheckpointSteps, AutoAttacksScheduleForOneHundredSteps) {
  EXPECT_THAT(ApgdCheckpointSteps(100), ElementsAre(22, 41, 57, 70, 80, 87, 93, 99));
  // N = 10: windows max(int(2.2), 1) = 2, then max(2 - 1, 1) = 1 forever.
  EXPECT_THAT(ApgdCheckpointSteps(10), ElementsAre(2, 3, 4, 5, 6, 7, 8, 9, 10));
  EXPECT_THAT(ApgdCheckpointSteps(1), ElementsAre(1));
}

TEST(DlrLoss, MatchesTheFormulaOnHandExamples) {
  // Label 0 on top: -(z_y - pi_2) / (pi_1 - pi_3) = -(3 - 2) / (3 - 1).
  // Label 2 below the top: -(z_y - pi_1) / (pi_1 - pi_3) = -(1 - 3) / (3 - 1).
  const torch::Tensor logits = torch::tensor({{3.0f, 2.0f, 1.0f, 0.0f}, {3.0f, 2.0f, 1.0f, 0.0f}});
  const torch::Tensor labels = torch::tensor({0, 2}, torch::kLong);
  const torch::Tensor dlr = DlrLoss(logits, labels);
  EXPECT_NEAR(dlr[0].item<float>(), -0.5f, 1e-6);
  EXPECT_NEAR(dlr[1].item<float>(), 1.0f, 1e-6);
  // Targeted: -(z_y - z_t) / (pi_1 - (pi_3 + pi_4) / 2) = -(3 - 1) / (3 - 0.5).
  const torch::Tensor t = TargetedDlrLoss(logits, labels, torch::tensor({2, 1}, torch::kLong));
  EXPECT_NEAR(t[0].item<float>(), -2.0f / 2.5f, 1e-6);
  EXPECT_NEAR(t[1].item<float>(), -(1.0f - 2.0f) / 2.5f, 1e-6);
}

// A scripted model: logits (2, b_f, -5, -5) for every image, where f counts forward passes and
// b_f comes from a script; the logits do not depend on x (zero gradient: x never moves), and
// label 0 stays the argmax (b_f < 2), so no image is ever fooled and the step-size rule alone
// decides the trace.
class ScriptedLoss : public ImageClassifierImpl {
 public:
  explicit ScriptedLoss(std::function<double(int)> b) : b_(std::move(b)) {}
  torch::Tensor forward(const torch::Tensor& images) override {
    const double b = b_(forward_calls_++);
    const torch::Tensor row = torch::tensor({2.0, b, -5.0, -5.0}, torch::kFloat);
    return images.sum({1, 2, 3}).view({-1, 1}) * 0.0 + row.view({1, 4});
  }
  int forward_calls_ = 0;

 private:
  std::function<double(int)> b_;
};

// check_zero_gradients: a DLR loss whose gradient is all zero at the start is a warning in
// PerturbWithWarnings (AutoAttack's report), counted per run; CE never checks.
TEST(ApgdWarnings, ZeroGradientUnderDlrIsReported) {
  ScriptedLoss flat([](int) { return 1.0; });
  const torch::Tensor x = torch::full({3, 1, 2, 2}, 0.5);
  const torch::Tensor y = torch::zeros({3}, torch::kLong);
  ApgdOptions o;
  o.epsilon = 8.0 / 255;
  o.num_iterations = 5;
  for (const auto& [loss, targets, expected] :
       {std::tuple<proto::ApgdLoss, int, int>{proto::DLR, 0, 3}, {proto::DLR_TARGETED, 2, 6},
        {proto::CE, 0, 0}}) {
    o.loss = loss;
    o.num_target_classes = targets;
    torch::Generator gen = MakeCpuGenerator(0);
    std::vector<std::string> warnings;
    const torch::Tensor adv = Apgd("APGD", o).PerturbWithWarnings(flat, x, y, gen, &warnings);
    EXPECT_TRUE(torch::equal(adv, x));
    if (expected == 0) {
      EXPECT_TRUE(warnings.empty()) << loss;
    } else {
      ASSERT_EQ(warnings.size(), 1u) << loss;
      EXPECT_THAT(warnings[0], ::testing::HasSubstr(absl::StrCat(
                                   "APGD: ", expected, " image run(s) of 3 images had an "
                                   "all-zero gradient")));
    }
  }
}

// Step size at each of the 100 steps when the size halves after the checkpoints `halved_after`.
std::vector<float> ExpectedSteps(double eps, const std::vector<int>& halved_after) {
  std::vector<float> steps;
  double eta = 2 * eps;
  for (int step = 1; step <= 100; ++step) {
    steps.push_back(static_cast<float>(eta));
    for (int h : halved_after) {
      if (h == step) eta /= 2;
    }
  }
  return steps;
}

std::vector<float> StepTrace(ImageClassifierImpl& model, double eps) {
  ApgdOptions options;
  options.epsilon = eps;
  torch::Generator gen = MakeCpuGenerator(3);
  const torch::Tensor x = torch::rand({2, 1, 3, 3}, gen);
  const ApgdRunResult r =
      ApgdSingleRun(model, x, torch::zeros({2}, torch::kLong), torch::Tensor(), options, gen);
  EXPECT_FALSE(r.fooled.any().item<bool>());
  EXPECT_TRUE(torch::equal(r.step_sizes.select(1, 0), r.step_sizes.select(1, 1)));
  const torch::Tensor s = r.step_sizes.select(1, 0).contiguous();
  return std::vector<float>(s.data_ptr<float>(), s.data_ptr<float>() + s.numel());
}

TEST(ApgdStepSize, AFlatLossHalvesAtEveryCheckpoint) {
  // c1 holds at every check: the loss never rises (only the first loss "rises" over the 0 that
  // the first window wraps around to: 1 <= 16).
  ScriptedLoss flat([](int) { return 1.0; });
  EXPECT_EQ(StepTrace(flat, 0.1), ExpectedSteps(0.1, {22, 41, 57, 70, 80, 87, 93, 99}));
  EXPECT_EQ(flat.forward_calls_, 101);  // The start and 100 steps.
}

TEST(ApgdStepSize, AStrictlyRisingLossNeverHalves) {
  ScriptedLoss rising([](int f) { return 0.01 * f; });
  EXPECT_EQ(StepTrace(rising, 0.1), ExpectedSteps(0.1, {}));
}

TEST(ApgdStepSize, NoImprovementSinceAnUnhalvedCheckHalves) {
  // The start has the highest loss; afterwards the loss rises at every step but stays below it.
  // c1 never holds; c2 (not halved last time, best loss not improved) holds at every second
  // check, from the second on (it is off at the first).
  ScriptedLoss below_start([](int f) { return f == 0 ? 1.9 : 0.01 * f; });
  EXPECT_EQ(StepTrace(below_start, 0.1), ExpectedSteps(0.1, {41, 70, 87, 99}));
}

class ApgdToyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_.eval();
    labels_ = model_.forward(images_).argmax(1).detach();
    labels_.slice(0, 0, 6).fill_(0);  // Some clean errors too.
  }
  ApgdOptions Options(LpNorm norm, proto::ApgdLoss loss, double eps) {
    ApgdOptions o;
    o.norm = norm;
    o.loss = loss;
    o.epsilon = eps;
    o.num_iterations = 20;
    o.num_target_classes = loss == proto::DLR_TARGETED ? 3 : 0;
    return o;
  }
  torch::Tensor Correct(const torch::Tensor& x) { return model_.forward(x).argmax(1).eq(labels_); }
  SmallConvNet model_{/*channels=*/1, /*image_size=*/8, /*num_classes=*/5, /*seed=*/4};
  torch::Generator gen_ = MakeCpuGenerator(4);
  torch::Tensor images_ = torch::rand({48, 1, 8, 8}, gen_);
  torch::Tensor labels_;
};

TEST_F(ApgdToyTest, StaysInsideTheBallAndTheImageRangeAndNeverHelpsTheModel) {
  for (LpNorm norm : {LpNorm::kLinf, LpNorm::kL2}) {
    for (proto::ApgdLoss loss : {proto::CE, proto::DLR, proto::DLR_TARGETED}) {
      const double eps = norm == LpNorm::kLinf ? 0.05 : 0.5;
      Apgd apgd("APGD", Options(norm, loss, eps));
      const torch::Tensor x = apgd.Perturb(model_, images_, labels_, gen_);
      const torch::Tensor delta = (x - images_).flatten(1);
      const double size = norm == LpNorm::kLinf ? delta.abs().max().item<double>()
                                                : delta.norm(2, 1).max().item<double>();
      EXPECT_LE(size, eps * (1 + 1e-5)) << static_cast<int>(norm) << " " << loss;
      EXPECT_GE(x.min().item<float>(), 0.0f);
      EXPECT_LE(x.max().item<float>(), 1.0f);
      const torch::Tensor robust = Correct(x);
      // Never above clean: a clean error stays an error (its image is returned unchanged).
      EXPECT_TRUE(robust.logical_and(Correct(images_).logical_not()).sum().item<int>() == 0);
      EXPECT_LT(robust.sum().item<int>(), Correct(images_).sum().item<int>())
          << "the attack fooled nothing";
    }
  }
}

TEST_F(ApgdToyTest, SameGeneratorStateSameResultBitForBit) {
  Apgd apgd("APGD-CE", Options(LpNorm::kLinf, proto::CE, 0.03));
  torch::Generator a = MakeCpuGenerator(9), b = MakeCpuGenerator(9);
  EXPECT_TRUE(torch::equal(apgd.Perturb(model_, images_, labels_, a),
                           apgd.Perturb(model_, images_, labels_, b)));
}

TEST_F(ApgdToyTest, StoppingFooledImagesEarlyFoolsTheSameImages) {
  for (proto::ApgdLoss loss : {proto::CE, proto::DLR_TARGETED}) {
    ApgdOptions early = Options(LpNorm::kLinf, loss, 0.03), full = early;
    full.stop_when_fooled = false;
    torch::Generator a = MakeCpuGenerator(5), b = MakeCpuGenerator(5);
    const torch::Tensor x_early = Apgd("early", early).Perturb(model_, images_, labels_, a);
    const torch::Tensor x_full = Apgd("full", full).Perturb(model_, images_, labels_, b);
    EXPECT_TRUE(torch::equal(Correct(x_early), Correct(x_full))) << loss;
  }
}

TEST_F(ApgdToyTest, StopsEarlyAndCountsItsPasses) {
  ApgdOptions early = Options(LpNorm::kLinf, proto::CE, 0.05), full = early;
  full.stop_when_fooled = false;
  torch::Generator a = MakeCpuGenerator(5), b = MakeCpuGenerator(5);
  const torch::Tensor robust = Correct(images_);
  const torch::Tensor x = images_.index({robust}), y = labels_.index({robust});
  const ApgdRunResult r_early = ApgdSingleRun(model_, x, y, torch::Tensor(), early, a);
  const ApgdRunResult r_full = ApgdSingleRun(model_, x, y, torch::Tensor(), full, b);
  EXPECT_TRUE(torch::equal(r_early.fooled, r_full.fooled));
  EXPECT_EQ(r_full.forward_passes, x.size(0) * 21);
  EXPECT_LT(r_early.forward_passes, r_full.forward_passes);
  // Fooled images' iterates are misclassified; the others are their highest-loss point.
  const torch::Tensor pred = model_.forward(r_early.x_adv).argmax(1).eq(y);
  EXPECT_TRUE(torch::equal(pred.logical_not(), r_early.fooled));
}

TEST_F(ApgdToyTest, EveryImageAlreadyWrongReturnsTheCleanImagesUntouched) {
  const torch::Tensor wrong = (model_.forward(images_).argmax(1) + 1).remainder(5).detach();
  Apgd apgd("APGD-T", Options(LpNorm::kLinf, proto::DLR_TARGETED, 0.03));
  torch::Generator gen = MakeCpuGenerator(1);
  const torch::Tensor before = gen.get_state();
  EXPECT_TRUE(torch::equal(apgd.Perturb(model_, images_, wrong, gen), images_));
  EXPECT_TRUE(torch::equal(gen.get_state(), before)) << "no start was drawn";
}

TEST(Apgd, FewerClassesThanTargetsUsesEveryWrongClassAndTooFewIsAnError) {
  LinearClassifier four(16, 4, 2), three(16, 3, 2);
  four.eval();
  three.eval();
  torch::Generator gen = MakeCpuGenerator(2);
  const torch::Tensor x = torch::rand({8, 1, 4, 4}, gen);
  ApgdOptions o;
  o.epsilon = 0.05;
  o.loss = proto::DLR_TARGETED;
  o.num_iterations = 5;
  o.num_target_classes = 9;  // > K - 1 = 3: ranks 2..4 only (the reference would crash).
  const torch::Tensor y4 = four.forward(x).argmax(1).detach();
  const torch::Tensor out = Apgd("APGD-T", o).Perturb(four, x, y4, gen);
  EXPECT_EQ(out.sizes(), x.sizes());
  const torch::Tensor y3 = three.forward(x).argmax(1).detach();
  try {
    Apgd("APGD-T", o).Perturb(three, x, y3, gen);
    ADD_FAILURE() << "expected an error for 3 classes";
  } catch (const c10::Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("needs at least 4 classes, the model has 3"));
  }
}

TEST(Apgd, BeatsOrTiesPgdOfTheSameBudget) {
  SmallConvNet model(1, 8, 5, 8);
  model.eval();
  torch::Generator gen = MakeCpuGenerator(8);
  const torch::Tensor x = torch::rand({64, 1, 8, 8}, gen);
  const torch::Tensor y = model.forward(x).argmax(1).detach();
  ApgdOptions o;
  o.epsilon = 0.03;
  o.num_iterations = 20;
  const torch::Tensor apgd = Apgd("APGD-CE", o).Perturb(model, x, y, gen);
  Pgd pgd("PGD-20", ParseTextProtoOrDie<proto::PgdConfig>(
                        "norm: LINF num_steps: 20 step_relative_to_epsilon: 0.25 "
                        "random_start: true restarts: 1 target_mode: UNTARGETED"),
          0.03);
  const torch::Tensor pgd_x = pgd.Perturb(model, x, y, gen);
  const int robust_apgd = model.forward(apgd).argmax(1).eq(y).sum().item<int>();
  const int robust_pgd = model.forward(pgd_x).argmax(1).eq(y).sum().item<int>();
  EXPECT_LE(robust_apgd, robust_pgd);
}

TEST(ValidateApgdConfig, NamesTheFieldAndValue) {
  const std::string ok =
      "norm: LINF loss: CE num_iterations: 100 restarts: 1 num_target_classes: 0 rho: 0.75 "
      "eot_iterations: 1";
  // `ok` with the fields of `text` replacing its own (or only `text` when it names no loss of
  // `ok`'s, for the "must be set" case).
  auto check = [&ok](const std::string& text) {
    proto::ApgdConfig config;
    if (text.rfind(ok, 0) == 0) {
      config = ParseTextProtoOrDie<proto::ApgdConfig>(ok);
      CHECK(google::protobuf::TextFormat::MergeFromString(text.substr(ok.size()), &config));
    } else {
      config = ParseTextProtoOrDie<proto::ApgdConfig>(text);
    }
    return ValidateApgdConfig(config, "attack.apgd");
  };
  EXPECT_THAT(check(ok), IsOk());
  EXPECT_THAT(check(ok + " num_iterations: 0"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("attack.apgd.num_iterations: must be >= 1, got 0")));
  EXPECT_THAT(check(ok + " rho: 1.5"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("attack.apgd.rho: must be in (0, 1], got 1.5")));
  EXPECT_THAT(check(ok + " loss: DLR_TARGETED"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("attack.apgd.num_target_classes: must be >= 1 for DLR_TARGETED")));
  EXPECT_THAT(check(ok + " num_target_classes: 9"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("must be 0 for the untargeted losses, got 9")));
  EXPECT_THAT(check("norm: LINF loss: CE"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("attack.apgd.num_iterations: must be set")));
  EXPECT_THAT(check(ok + " loss: APGD_LOSS_UNSPECIFIED"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("attack.apgd.loss: must be CE, DLR or DLR_TARGETED")));
}

}  // namespace
}  // namespace robustness
