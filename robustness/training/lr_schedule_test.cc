#include "robustness/training/lr_schedule.h"

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
    warmup_epochs: 0 warmup_start_lr: 0 per_step: false
    step { milestones: [ 30, 60, 90 ] gamma: 0.1 })pb");
  EXPECT_DOUBLE_EQ(LearningRateAt(s, 0.1, 100, 29.9), 0.1);
  EXPECT_NEAR(LearningRateAt(s, 0.1, 100, 30.0), 0.01, 1e-12);
  EXPECT_NEAR(LearningRateAt(s, 0.1, 100, 95.0), 1e-4, 1e-12);
}

TEST(LearningRateAt, CosineWithWarmup) {
  auto s = ParseTextProtoOrDie<proto::ScheduleConfig>(R"pb(
    warmup_epochs: 5 warmup_start_lr: 1e-6 per_step: true cosine { min_lr: 1e-5 })pb");
  EXPECT_DOUBLE_EQ(LearningRateAt(s, 2e-3, 100, 0.0), 1e-6);
  EXPECT_NEAR(LearningRateAt(s, 2e-3, 100, 2.5), (1e-6 + 2e-3) / 2, 1e-12);
  EXPECT_NEAR(LearningRateAt(s, 2e-3, 100, 5.0), 2e-3, 1e-12);
  EXPECT_NEAR(LearningRateAt(s, 2e-3, 100, 52.5), (2e-3 + 1e-5) / 2, 1e-12);
  EXPECT_NEAR(LearningRateAt(s, 2e-3, 100, 100.0), 1e-5, 1e-12);
}

TEST(LearningRateAt, PerEpochFloorsProgress) {
  auto s = ParseTextProtoOrDie<proto::ScheduleConfig>(R"pb(
    warmup_epochs: 2 warmup_start_lr: 0 per_step: false cosine { min_lr: 0 })pb");
  EXPECT_DOUBLE_EQ(LearningRateAt(s, 1.0, 10, 0.99), 0.0);
  EXPECT_DOUBLE_EQ(LearningRateAt(s, 1.0, 10, 1.5), 0.5);
}

TEST(ValidateScheduleConfig, RejectsBadFieldsByName) {
  auto s = ParseTextProtoOrDie<proto::ScheduleConfig>(R"pb(
    warmup_epochs: 0 warmup_start_lr: 0 per_step: false step { milestones: [ 5, 3 ] gamma: 0.1 })pb");
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

}  // namespace
}  // namespace robustness
