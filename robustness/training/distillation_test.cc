#include "robustness/training/distillation.h"

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/status_matchers.h"
#include "robustness/config/parse_text_proto.h"

namespace robustness {
namespace {

using ::testing::HasSubstr;

// Two images, three classes, tau 2: the KL computed by hand in double.
TEST(SoftDistillationLoss, EqualsTheHandComputedValueUnderBothReductions) {
  const double s[2][3] = {{1.0, 0.0, -1.0}, {0.5, 2.0, 0.0}};
  const double t[2][3] = {{0.0, 1.0, 0.0}, {3.0, 0.0, -2.0}};
  const double tau = 2.0;
  double kl = 0;
  for (int i = 0; i < 2; ++i) {
    double zs = 0, zt = 0;
    for (int c = 0; c < 3; ++c) {
      zs += std::exp(s[i][c] / tau);
      zt += std::exp(t[i][c] / tau);
    }
    for (int c = 0; c < 3; ++c) {
      const double q = std::exp(t[i][c] / tau) / zt, p = std::exp(s[i][c] / tau) / zs;
      kl += q * (std::log(q) - std::log(p));
    }
  }
  const torch::Tensor student = torch::tensor({1.0, 0.0, -1.0, 0.5, 2.0, 0.0}).view({2, 3});
  const torch::Tensor teacher = torch::tensor({0.0, 1.0, 0.0, 3.0, 0.0, -2.0}).view({2, 3});
  const double batch_mean =
      SoftDistillationLoss(student, teacher, tau, proto::DistillationConfig::BATCH_MEAN)
          .item<double>();
  const double deit =
      SoftDistillationLoss(student, teacher, tau, proto::DistillationConfig::DEIT_ELEMENT_MEAN)
          .item<double>();
  EXPECT_NEAR(batch_mean, tau * tau * kl / 2, 1e-6);
  EXPECT_NEAR(deit, tau * tau * kl / 6, 1e-6);  // / (B x C): DeiT's quirk, 1 / C of the mean
}

TEST(SoftDistillationLoss, IsZeroForEqualLogitsAndOnlyTrainsTheStudent) {
  torch::Tensor student = torch::randn({4, 5}).requires_grad_(true);
  torch::Tensor teacher = student.detach().clone().requires_grad_(true);
  torch::Tensor loss =
      SoftDistillationLoss(student, teacher, 1.0, proto::DistillationConfig::BATCH_MEAN);
  EXPECT_NEAR(loss.item<double>(), 0.0, 1e-6);
  loss.backward();
  EXPECT_TRUE(student.grad().defined());
  EXPECT_FALSE(teacher.grad().defined());
}

TEST(HardDistillationLoss, IsTheCrossEntropyAgainstTheTeachersArgmax) {
  const torch::Tensor student = torch::tensor({2.0, 0.0, 0.0, 0.0, 1.0, 0.0}).view({2, 3});
  const torch::Tensor teacher = torch::tensor({0.0, 0.0, 5.0, 0.0, 9.0, 1.0}).view({2, 3});
  // Targets 2 and 1: -log softmax(student)[0][2] and [1][1], averaged.
  const double z0 = std::exp(2.0) + 2.0, z1 = std::exp(1.0) + 2.0;
  const double expected = (-std::log(1.0 / z0) - std::log(std::exp(1.0) / z1)) / 2;
  EXPECT_NEAR(HardDistillationLoss(student, teacher).item<double>(), expected, 1e-6);
}

// The paper's setting, with the fields of `text` written over it.
proto::DistillationConfig Config(const std::string& text) {
  auto config = ParseTextProtoOrDie<proto::DistillationConfig>(R"pb(
    imported { model { num_classes: 10 } weights: "/w.pt" }
    kind: SOFT alpha: 0.5 tau: 1.0 kl_reduction: DEIT_ELEMENT_MEAN)pb");
  config.MergeFrom(ParseTextProtoOrDie<proto::DistillationConfig>(text));
  return config;
}

TEST(ValidateDistillationConfig, AcceptsThePapersSetting) {
  EXPECT_THAT(ValidateDistillationConfig(Config(""), 10), IsOk());
}

TEST(ValidateDistillationConfig, RejectsBadKnobsNamingTheField) {
  EXPECT_THAT(ValidateDistillationConfig(Config("tau: 0"), 10),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("distillation.tau")));
  EXPECT_THAT(ValidateDistillationConfig(Config("tau: -1"), 10),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("distillation.tau")));
  EXPECT_THAT(ValidateDistillationConfig(Config("alpha: 1.5"), 10),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("distillation.alpha")));
  EXPECT_THAT(ValidateDistillationConfig(Config("alpha: -0.1"), 10),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("distillation.alpha")));
  EXPECT_THAT(ValidateDistillationConfig(Config("kind: KIND_UNSPECIFIED"), 10),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("distillation.kind")));
  EXPECT_THAT(ValidateDistillationConfig(Config("kind: HARD"), 10),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("kl_reduction")));
}

TEST(ValidateDistillationConfig, RejectsATeacherOfAnotherClassCount) {
  EXPECT_THAT(ValidateDistillationConfig(Config(""), 1000),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("the teacher has 10 classes, the student 1000")));
}

TEST(ValidateDistillationConfig, RejectsADistilledStoredTeacher) {
  proto::DistillationConfig config = Config("");
  config.mutable_stored()->mutable_model()->set_num_classes(10);
  *config.mutable_stored()->mutable_distillation() = Config("");
  EXPECT_THAT(ValidateDistillationConfig(config, 10),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("stored.distillation")));
}

}  // namespace
}  // namespace robustness
