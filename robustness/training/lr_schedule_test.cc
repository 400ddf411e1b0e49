#include "robustness/training/lr_schedule.h"

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/status_matchers.h"
#include "robustness/config/parse_text_proto.h"

namespace robustness {
namespace {

using ::testing::DoubleNear;
using ::testing::HasSubstr;

TEST(LearningRateAt, StepDecayAtMilestones) {
  auto s = ParseTextProtoOrDie<proto::ScheduleConfig>(R"pb(
    semantics: PROGRESS warmup_epochs: 0 warmup_start_lr: 0 per_step: false
    step { milestones: [ 30, 60, 90 ] gamma: 0.1 })pb");
  EXPECT_DOUBLE_EQ(LearningRateAt(s, 0.1, 100, 29.9), 0.1);
  EXPECT_NEAR(LearningRateAt(s, 0.1, 100, 30.0), 0.01, 1e-12);
  EXPECT_NEAR(LearningRateAt(s, 0.1, 100, 95.0), 1e-4, 1e-12);
}

TEST(LearningRateAt, CosineWithWarmup) {
  auto s = ParseTextProtoOrDie<proto::ScheduleConfig>(R"pb(
    semantics: PROGRESS warmup_epochs: 5 warmup_start_lr: 1e-6 per_step: true
    cosine { min_lr: 1e-5 cooldown_epochs: 0 })pb");
  EXPECT_DOUBLE_EQ(LearningRateAt(s, 2e-3, 100, 0.0), 1e-6);
  EXPECT_NEAR(LearningRateAt(s, 2e-3, 100, 2.5), (1e-6 + 2e-3) / 2, 1e-12);
  EXPECT_NEAR(LearningRateAt(s, 2e-3, 100, 5.0), 2e-3, 1e-12);
  EXPECT_NEAR(LearningRateAt(s, 2e-3, 100, 52.5), (2e-3 + 1e-5) / 2, 1e-12);
  EXPECT_NEAR(LearningRateAt(s, 2e-3, 100, 100.0), 1e-5, 1e-12);
}

TEST(LearningRateAt, PerEpochFloorsProgress) {
  auto s = ParseTextProtoOrDie<proto::ScheduleConfig>(R"pb(
    semantics: PROGRESS warmup_epochs: 2 warmup_start_lr: 0 per_step: false
    cosine { min_lr: 0 cooldown_epochs: 0 })pb");
  EXPECT_DOUBLE_EQ(LearningRateAt(s, 1.0, 10, 0.99), 0.0);
  EXPECT_DOUBLE_EQ(LearningRateAt(s, 1.0, 10, 1.5), 0.5);
}

TEST(ValidateScheduleConfig, RejectsBadFieldsByName) {
  auto s = ParseTextProtoOrDie<proto::ScheduleConfig>(R"pb(
    semantics: PROGRESS warmup_epochs: 0 warmup_start_lr: 0 per_step: false
    step { milestones: [ 5, 3 ] gamma: 0.1 })pb");
  EXPECT_THAT(ValidateScheduleConfig(s, 0.1, 10),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("training.schedule.step.milestones")));
  s.set_warmup_epochs(10);
  EXPECT_THAT(ValidateScheduleConfig(s, 0.1, 10),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("training.schedule.warmup_epochs: must be in [0, epochs=10), got 10")));
  s.set_warmup_epochs(0);
  s.mutable_step()->clear_milestones();
  s.mutable_step()->set_gamma(1.5);
  EXPECT_THAT(ValidateScheduleConfig(s, 0.1, 10),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("step.gamma")));
}

// The paper's DeiT-S schedule (PAPER.md 3.3; deit.sh: lr 5e-4 x 2048 / 512 = 2e-3, warm-up 5
// epochs from 1e-6, cosine to 1e-5 over 100 epochs, stepped per epoch), for every epoch, against
// the closed forms of timm_recipes.md section 6 written out independently here.
proto::ScheduleConfig DeitS(proto::ScheduleConfig::Semantics semantics) {
  auto s = ParseTextProtoOrDie<proto::ScheduleConfig>(R"pb(
    warmup_epochs: 5 warmup_start_lr: 1e-6 per_step: false
    cosine { min_lr: 1e-5 cooldown_epochs: 0 })pb");
  s.set_semantics(semantics);
  return s;
}

TEST(LearningRateAt, PaperDeitSEveryEpochWithTheLoopsOffByOne) {
  const double b = 2e-3, w = 1e-6, m = 1e-5;
  const proto::ScheduleConfig loop = DeitS(proto::ScheduleConfig::TIMM_DEIT_LOOP);
  ASSERT_THAT(ValidateScheduleConfig(loop, b, 100), IsOk());
  for (int e = 0; e < 100; ++e) {
    double want;
    if (e <= 1) {
      want = w;
    } else if (e <= 5) {
      want = w + (e - 1) * (b - w) / 5;
    } else {
      want = m + 0.5 * (b - m) * (1 + std::cos(M_PI * (e - 1) / 100));
    }
    // Mid-epoch progress gives the epoch's value: the paper's schedule is stepped per epoch.
    EXPECT_NEAR(LearningRateAt(loop, b, 100, e + 0.7), want, 1e-15) << "epoch " << e;
  }
  // The sheet: the first post-warm-up value is about 0.99384 x base (cos(pi 5/100)).
  EXPECT_NEAR(LearningRateAt(loop, b, 100, 6), 0.99384 * b, 1e-4 * b);
}

TEST(LearningRateAt, PaperDeitSEveryEpochAsTimmTrainPyStepsIt) {
  const double b = 2e-3, w = 1e-6, m = 1e-5;
  const proto::ScheduleConfig timm = DeitS(proto::ScheduleConfig::TIMM);
  ASSERT_THAT(ValidateScheduleConfig(timm, b, 100), IsOk());
  for (int e = 0; e < 100; ++e) {
    const double want =
        e < 5 ? w + e * (b - w) / 5 : m + 0.5 * (b - m) * (1 + std::cos(M_PI * e / 100));
    EXPECT_NEAR(LearningRateAt(timm, b, 100, e), want, 1e-15) << "epoch " << e;
  }
}

TEST(LearningRateAt, TimmCooldownEpochsSitAtMinLr) {
  proto::ScheduleConfig s = DeitS(proto::ScheduleConfig::TIMM);
  s.mutable_cosine()->set_cooldown_epochs(10);  // timm: --epochs 90 --cooldown-epochs 10
  ASSERT_THAT(ValidateScheduleConfig(s, 2e-3, 100), IsOk());
  EXPECT_NEAR(LearningRateAt(s, 2e-3, 100, 45), 1e-5 + 0.5 * (2e-3 - 1e-5), 1e-15);
  for (int e = 90; e < 100; ++e) EXPECT_DOUBLE_EQ(LearningRateAt(s, 2e-3, 100, e), 1e-5);
}

TEST(LearningRateAt, TimmStepAsTheAdvResScript) {
  // advres.sh (timm_recipes.md section 6): b 0.8, warm-up 5 from 0.1, /10 at 30, 60, 90.
  auto s = ParseTextProtoOrDie<proto::ScheduleConfig>(R"pb(
    semantics: TIMM_DEIT_LOOP warmup_epochs: 5 warmup_start_lr: 0.1 per_step: false
    step { milestones: [ 30, 60, 90 ] gamma: 0.1 })pb");
  ASSERT_THAT(ValidateScheduleConfig(s, 0.8, 100), IsOk());
  EXPECT_DOUBLE_EQ(LearningRateAt(s, 0.8, 100, 0), 0.1);
  EXPECT_DOUBLE_EQ(LearningRateAt(s, 0.8, 100, 1), 0.1);
  for (int e = 2; e <= 5; ++e) EXPECT_NEAR(LearningRateAt(s, 0.8, 100, e), 0.1 + 0.14 * (e - 1), 1e-15);
  EXPECT_NEAR(LearningRateAt(s, 0.8, 100, 30), 0.8, 1e-15);
  EXPECT_NEAR(LearningRateAt(s, 0.8, 100, 31), 0.08, 1e-15);
  EXPECT_NEAR(LearningRateAt(s, 0.8, 100, 61), 0.008, 1e-15);
  EXPECT_NEAR(LearningRateAt(s, 0.8, 100, 99), 0.0008, 1e-15);
}

TEST(ValidateScheduleConfig, SemanticsAndCooldownAreChecked) {
  proto::ScheduleConfig s = DeitS(proto::ScheduleConfig::SEMANTICS_UNSPECIFIED);
  EXPECT_THAT(ValidateScheduleConfig(s, 2e-3, 100),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("training.schedule.semantics: must be PROGRESS, TIMM or "
                                 "TIMM_DEIT_LOOP, got SEMANTICS_UNSPECIFIED")));
  s.set_semantics(proto::ScheduleConfig::TIMM);
  s.set_per_step(true);
  EXPECT_THAT(ValidateScheduleConfig(s, 2e-3, 100),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("training.schedule.per_step: must be false with semantics TIMM")));
  s.set_per_step(false);
  s.mutable_cosine()->set_cooldown_epochs(95);
  EXPECT_THAT(ValidateScheduleConfig(s, 2e-3, 100),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("training.schedule.cosine.cooldown_epochs: must be in [0, "
                                 "epochs - warmup_epochs = 95), got 95")));
}

}  // namespace
}  // namespace robustness
