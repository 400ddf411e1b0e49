#include "robustness/attacks/internal/target_selection.h"

#include <string>

#include <torch/types.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/status_matchers.h"
#include "robustness/attacks/internal/toy_models.h"
#include "robustness/base/seed.h"

namespace robustness {
namespace attacks_internal {
namespace {

TEST(ValidateTargetMode, NamesFieldAndValue) {
  EXPECT_THAT(ValidateTargetMode(proto::UNTARGETED, "a.t"), IsOk());
  EXPECT_THAT(ValidateTargetMode(proto::TARGET_RANDOM_OTHER, "a.t"), IsOk());
  EXPECT_THAT(ValidateTargetMode(proto::TARGET_LEAST_LIKELY, "a.t"), IsOk());
  const char* kMessage =
      "a.t: must be UNTARGETED, TARGET_RANDOM_OTHER or TARGET_LEAST_LIKELY, got ";
  EXPECT_THAT(ValidateTargetMode(proto::TARGET_MODE_UNSPECIFIED, "a.t"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::Eq(std::string(kMessage) + "TARGET_MODE_UNSPECIFIED")));
  EXPECT_THAT(ValidateTargetMode(static_cast<proto::TargetMode>(9), "a.t"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::Eq(std::string(kMessage) + "9")));
}

class TargetSelectionTest : public ::testing::Test {
 protected:
  void SetUp() override { model_.eval(); }
  LinearClassifier model_{/*in_features=*/4, /*num_classes=*/5, /*seed=*/3};
  torch::Generator gen_ = MakeCpuGenerator(3);
  torch::Tensor images_ = torch::rand({200, 1, 2, 2}, gen_);
  torch::Tensor labels_ = torch::randint(5, {200}, gen_, torch::kLong);
};

TEST_F(TargetSelectionTest, UntargetedUsesTheLabels) {
  EXPECT_FALSE(IsTargeted(proto::UNTARGETED));
  EXPECT_TRUE(torch::equal(SelectTargets(proto::UNTARGETED, model_, images_, labels_, gen_),
                           labels_));
}

TEST_F(TargetSelectionTest, RandomOtherNeverPicksTheLabelAndCoversTheRest) {
  EXPECT_TRUE(IsTargeted(proto::TARGET_RANDOM_OTHER));
  torch::Generator a = MakeCpuGenerator(9);
  torch::Tensor t = SelectTargets(proto::TARGET_RANDOM_OTHER, model_, images_, labels_, a);
  EXPECT_EQ(t.scalar_type(), torch::kLong);
  EXPECT_FALSE(t.eq(labels_).any().item<bool>());
  EXPECT_EQ(t.min().item<int64_t>(), 0);
  EXPECT_EQ(t.max().item<int64_t>(), 4);
  torch::Generator b = MakeCpuGenerator(9);
  EXPECT_TRUE(torch::equal(
      SelectTargets(proto::TARGET_RANDOM_OTHER, model_, images_, labels_, b), t));
}

TEST_F(TargetSelectionTest, LeastLikelyIsTheCleanArgmin) {
  EXPECT_TRUE(IsTargeted(proto::TARGET_LEAST_LIKELY));
  torch::Tensor t = SelectTargets(proto::TARGET_LEAST_LIKELY, model_, images_, labels_, gen_);
  torch::Tensor logits = model_.forward(images_).detach();
  EXPECT_TRUE(torch::equal(logits.gather(1, t.view({-1, 1})).view(-1),
                           std::get<0>(logits.min(1))));
}

}  // namespace
}  // namespace attacks_internal
}  // namespace robustness
