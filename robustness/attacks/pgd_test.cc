#include "robustness/attacks/pgd.h"

#include <string>

#include <torch/types.h>

#include "glog/logging.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "robustness/attacks/fgsm.h"
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

proto::PgdConfig Config(const std::string& text) {
  return ParseTextProtoOrDie<proto::PgdConfig>(text);
}

// PGD-10, step eps/4, random start, untargeted; fields in `extra` override these.
proto::PgdConfig Pgd10(const std::string& extra = "") {
  proto::PgdConfig config =
      Config("norm: LINF num_steps: 10 step_relative_to_epsilon: 0.25 random_start: true "
             "restarts: 1 target_mode: UNTARGETED");
  CHECK(google::protobuf::TextFormat::MergeFromString(extra, &config)) << extra;
  return config;
}

class PgdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_.eval();
    labels_ = model_.forward(images_).argmax(1).detach();  // Clean accuracy 100%...
  }
  torch::Tensor Loss(const torch::Tensor& x, const torch::Tensor& y) {
    return -model_.forward(x).log_softmax(1).gather(1, y.view({-1, 1})).view(-1).detach();
  }
  torch::Tensor Correct(const torch::Tensor& x) { return model_.forward(x).argmax(1).eq(labels_); }
  LinearClassifier model_{/*in_features=*/16, /*num_classes=*/4, /*seed=*/11};
  torch::Generator gen_ = MakeCpuGenerator(11);
  torch::Tensor images_ = torch::rand({64, 1, 4, 4}, gen_);
  torch::Tensor labels_;
  void SetUpLabels() { labels_.slice(0, 0, 16).fill_(0); }  // ...unless some are made wrong.
};

TEST_F(PgdTest, StaysInTheBallAndImageRangeForBothNorms) {
  for (const char* norm : {"norm: LINF", "norm: L2"}) {
    Pgd pgd("PGD", Pgd10(std::string(norm) + " restarts: 2 step_relative_to_epsilon: 0.5"), kEps);
    torch::Tensor x = pgd.Perturb(model_, images_, labels_, gen_);
    torch::Tensor delta = x - images_;
    const bool linf = std::string(norm) == "norm: LINF";
    const float size = (linf ? delta.abs().max() : PerImageL2Norm(delta).max()).item<float>();
    EXPECT_LE(size, kEps + 1e-6) << norm;
    EXPECT_GT(size, 0.5 * kEps) << norm;
    EXPECT_GE(x.min().item<float>(), 0.0f) << norm;
    EXPECT_LE(x.max().item<float>(), 1.0f) << norm;
  }
}

TEST_F(PgdTest, OneStepWithoutRandomStartAndStepEpsilonIsFgsm) {
  for (const char* mode : {"norm: LINF target_mode: UNTARGETED",
                           "norm: L2 target_mode: TARGET_LEAST_LIKELY"}) {
    Pgd pgd("PGD-1", Pgd10(std::string(mode) +
                           " num_steps: 1 step_relative_to_epsilon: 1 random_start: false"),
            kEps);
    Fgsm fgsm("FGSM", ParseTextProtoOrDie<proto::FgsmConfig>(mode), kEps);
    torch::Generator a = MakeCpuGenerator(1), b = MakeCpuGenerator(1);
    EXPECT_TRUE(torch::equal(pgd.Perturb(model_, images_, labels_, a),
                             fgsm.Perturb(model_, images_, labels_, b)))
        << mode;
  }
}

TEST_F(PgdTest, LinfLossNeverDropsOnALinearModelAndAccuracyNeverRises) {
  SetUpLabels();
  // CE of a linear model is convex in x and every projected sign step moves along sign(g), so
  // each image's loss is non-decreasing from the clean image.
  Pgd pgd("PGD-10", Pgd10("random_start: false"), kEps);
  torch::Tensor x = pgd.Perturb(model_, images_, labels_, gen_);
  EXPECT_TRUE((Loss(x, labels_) >= Loss(images_, labels_) - 1e-5).all().item<bool>());
  const int64_t clean = Correct(images_).sum().item<int64_t>();
  const int64_t robust = Correct(x).sum().item<int64_t>();
  EXPECT_LE(robust, clean);
  EXPECT_LT(robust, clean / 2);  // The attack does something at eps = 0.1.
  EXPECT_FALSE((Correct(x) & ~Correct(images_)).any().item<bool>());
}

TEST_F(PgdTest, SameGeneratorSeedGivesBitIdenticalOutput) {
  Pgd pgd("PGD", Pgd10("norm: L2 restarts: 3 target_mode: TARGET_RANDOM_OTHER"), kEps);
  torch::Generator a = MakeCpuGenerator(5), b = MakeCpuGenerator(5), c = MakeCpuGenerator(6);
  torch::Tensor x = pgd.Perturb(model_, images_, labels_, a);
  EXPECT_TRUE(torch::equal(pgd.Perturb(model_, images_, labels_, b), x));
  EXPECT_FALSE(torch::equal(pgd.Perturb(model_, images_, labels_, c), x));
}

TEST_F(PgdTest, RestoresTrainingAndLeavesParameterGradsAlone) {
  model_.train();
  model_.fc->weight.mutable_grad() = torch::full_like(model_.fc->weight, 3.0);
  Pgd pgd("PGD", Pgd10("restarts: 2"), kEps);
  torch::Generator a = MakeCpuGenerator(2), b = MakeCpuGenerator(2);
  torch::Tensor in_train = pgd.Perturb(model_, images_, labels_, a);
  EXPECT_TRUE(model_.is_training());
  for (const auto& m : model_.modules(/*include_self=*/false)) EXPECT_TRUE(m->is_training());
  EXPECT_TRUE(torch::equal(model_.fc->weight.grad(), torch::full_like(model_.fc->weight, 3.0)));
  EXPECT_FALSE(model_.fc->bias.grad().defined());
  model_.eval();  // Dropout would change every gradient if Perturb had not switched to eval.
  EXPECT_TRUE(torch::equal(pgd.Perturb(model_, images_, labels_, b), in_train));
}

TEST_F(PgdTest, TargetedReachesTheTargetOnALinearModel) {
  Pgd pgd("PGD-T", Pgd10("num_steps: 20 target_mode: TARGET_RANDOM_OTHER"), /*epsilon=*/0.3);
  torch::Generator a = MakeCpuGenerator(4), b = MakeCpuGenerator(4);
  torch::Tensor x = pgd.Perturb(model_, images_, labels_, a);
  // The targets are the first draw from the generator (pgd.h), so the same seed reproduces them.
  torch::Tensor r = torch::randint(3, {64}, b, torch::kLong);
  torch::Tensor targets = r + r.ge(labels_).to(torch::kLong);
  torch::Tensor hit = model_.forward(x).argmax(1).eq(targets).to(torch::kFloat);
  EXPECT_GE(hit.mean().item<double>(), 0.9);
}

TEST_F(PgdTest, MoreRestartsNeverFoolFewerImages) {
  SetUpLabels();
  proto::PgdConfig weak = Pgd10("num_steps: 2 step_relative_to_epsilon: 0.3");
  Pgd one("PGD", weak, 0.05);
  weak.set_restarts(5);
  Pgd five("PGD", weak, 0.05);
  torch::Generator a = MakeCpuGenerator(8), b = MakeCpuGenerator(8);
  torch::Tensor x_one = one.Perturb(model_, images_, labels_, a);
  torch::Tensor x_five = five.Perturb(model_, images_, labels_, b);
  torch::Tensor fooled_one = ~Correct(x_one), fooled_five = ~Correct(x_five);
  EXPECT_FALSE((fooled_one & ~fooled_five).any().item<bool>());  // A superset, image by image.
  EXPECT_GT(fooled_five.sum().item<int64_t>(), fooled_one.sum().item<int64_t>());
  // Restart 1 draws the same start in both runs; where it fools, its output is kept as is.
  EXPECT_TRUE(torch::equal(x_five.index({fooled_one}), x_one.index({fooled_one})));
}

TEST(Pgd, ResolvesTheStepSize) {
  EXPECT_DOUBLE_EQ(Pgd("p", Pgd10(), 0.2).step_size(), 0.05);
  EXPECT_DOUBLE_EQ(Pgd("p", Pgd10("step_absolute { over_255: 1 }"), 0.2).step_size(), 1.0 / 255);
}

TEST(ValidatePgdConfig, NamesFieldAndValueOnEveryError) {
  auto error = [](const std::string& extra) {
    return ValidatePgdConfig(Pgd10(extra), "attack.pgd");
  };
  auto is = [](const std::string& message) {
    return StatusIs(absl::StatusCode::kInvalidArgument, Eq(message));
  };
  EXPECT_THAT(error(""), IsOk());
  EXPECT_THAT(error("norm: NORM_UNSPECIFIED"),
              is("attack.pgd.norm: must be LINF or L2, got NORM_UNSPECIFIED"));
  EXPECT_THAT(error("num_steps: 0"), is("attack.pgd.num_steps: must be >= 1, got 0"));
  EXPECT_THAT(error("step_relative_to_epsilon: -1"),
              is("attack.pgd.step_relative_to_epsilon: must be finite and > 0, got -1"));
  EXPECT_THAT(error("step_relative_to_epsilon: inf"),
              is("attack.pgd.step_relative_to_epsilon: must be finite and > 0, got inf"));
  EXPECT_THAT(error("step_absolute { over_255: 0 }"),
              is("attack.pgd.step_absolute: must be in (0, 1] pixel units, got 0/255"));
  EXPECT_THAT(error("restarts: 0"), is("attack.pgd.restarts: must be >= 1, got 0"));
  EXPECT_THAT(error("random_start: false restarts: 3"),
              is("attack.pgd.restarts: must be 1 when random_start is false (every restart "
                 "would repeat the same run), got 3"));
  EXPECT_THAT(error("target_mode: TARGET_MODE_UNSPECIFIED"),
              is("attack.pgd.target_mode: must be UNTARGETED, TARGET_RANDOM_OTHER or "
                 "TARGET_LEAST_LIKELY, got TARGET_MODE_UNSPECIFIED"));
}

TEST(ValidatePgdConfig, UnsetFieldsAreErrorsNotDefaults) {
  auto is = [](const std::string& message) {
    return StatusIs(absl::StatusCode::kInvalidArgument, Eq(message));
  };
  proto::PgdConfig c = Pgd10();
  c.clear_num_steps();
  EXPECT_THAT(ValidatePgdConfig(c, "attack.pgd"), is("attack.pgd.num_steps: must be set"));
  c = Pgd10();
  c.clear_step_size();
  EXPECT_THAT(ValidatePgdConfig(c, "attack.pgd"),
              is("attack.pgd.step_size: must be set (step_relative_to_epsilon or step_absolute)"));
  c = Pgd10();
  c.clear_random_start();
  EXPECT_THAT(ValidatePgdConfig(c, "attack.pgd"), is("attack.pgd.random_start: must be set"));
  c = Pgd10();
  c.clear_restarts();
  EXPECT_THAT(ValidatePgdConfig(c, "attack.pgd"), is("attack.pgd.restarts: must be set"));
}

}  // namespace
}  // namespace robustness
