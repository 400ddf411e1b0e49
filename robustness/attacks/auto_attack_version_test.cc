#include "robustness/attacks/auto_attack_version.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/attacks/attack_factory.h"
#include "robustness/base/status_matchers.h"

namespace robustness {
namespace {

std::vector<std::string> Names(const std::vector<proto::AttackConfig>& stages) {
  std::vector<std::string> names;
  for (const auto& s : stages) names.push_back(s.name());
  return names;
}

TEST(AutoAttackVersionStages, StandardIsTheReferencesOrderAndSettings) {
  for (proto::Norm norm : {proto::LINF, proto::L2}) {
    const auto stages = AutoAttackVersionStages(AutoAttackVersion::kStandard, norm);
    ASSERT_THAT(stages, IsOk());
    EXPECT_THAT(Names(*stages), ::testing::ElementsAre("APGD-CE", "APGD-T", "FAB-T", "Square"));
    const auto& s = *stages;
    EXPECT_EQ(s[0].apgd().loss(), proto::CE);
    EXPECT_EQ(s[0].apgd().restarts(), 1);
    EXPECT_EQ(s[1].apgd().loss(), proto::DLR_TARGETED);
    EXPECT_EQ(s[1].apgd().num_target_classes(), 9);
    EXPECT_TRUE(s[2].fab().targeted());
    EXPECT_EQ(s[2].fab().restarts(), 1);
    EXPECT_EQ(s[2].fab().num_target_classes(), 9);
    EXPECT_DOUBLE_EQ(s[2].fab().eta(), 1.05);
    EXPECT_EQ(s[3].square().num_queries(), 5000);
    EXPECT_DOUBLE_EQ(s[3].square().p_init(), 0.8);
    for (const auto& stage : s) {
      EXPECT_THAT(ValidateAttackConfig(stage), IsOk()) << stage.name();
    }
  }
}

TEST(AutoAttackVersionStages, PlusRunsSixStagesWithFiveRestarts) {
  const auto stages = AutoAttackVersionStages(AutoAttackVersion::kPlus, proto::LINF);
  ASSERT_THAT(stages, IsOk());
  EXPECT_THAT(Names(*stages), ::testing::ElementsAre("APGD-CE", "APGD-DLR", "FAB", "Square",
                                                     "APGD-T", "FAB-T"));
  EXPECT_EQ((*stages)[0].apgd().restarts(), 5);
  EXPECT_EQ((*stages)[1].apgd().loss(), proto::DLR);
  EXPECT_EQ((*stages)[1].apgd().restarts(), 5);
  EXPECT_FALSE((*stages)[2].fab().targeted());
  EXPECT_EQ((*stages)[2].fab().restarts(), 5);
  EXPECT_EQ((*stages)[5].fab().restarts(), 1);
  for (const auto& stage : *stages) EXPECT_THAT(ValidateAttackConfig(stage), IsOk());
}

TEST(AutoAttackVersionStages, OtherNormsAreAnError) {
  EXPECT_THAT(AutoAttackVersionStages(AutoAttackVersion::kStandard, proto::NORM_UNSPECIFIED),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("LINF and L2")));
}

}  // namespace
}  // namespace robustness
