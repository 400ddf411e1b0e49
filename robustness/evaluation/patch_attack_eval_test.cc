#include "robustness/evaluation/patch_attack_eval.h"

#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "robustness/base/status_matchers.h"
#include "robustness/attacks/internal/toy_models.h"
#include "robustness/datasets/in_memory_dataset.h"
#include "robustness/textures/constant_dictionary.h"

namespace robustness {
namespace {

// A 3-class dictionary of 2 black 16 px textures per class.
std::string BlackDictionary() {
  const std::string dir = absl::StrCat(::testing::TempDir(), "/dict_", getpid());
  EXPECT_THAT(WriteConstantTextureDictionary(dir, {0, 0, 0}, 2, 16), IsOk());
  return dir;
}

proto::PatchAttackEvalConfig Config(int images) {
  proto::PatchAttackEvalConfig c;
  proto::PatchAttackConfig* a = c.mutable_attack();
  a->set_num_patches(2);
  a->set_area_fraction(0.1);
  a->set_area_mode(proto::PatchAttackConfig::TOTAL);
  a->set_goal(proto::PatchAttackConfig::NON_TARGETED);
  a->set_texture_class(-1);
  a->set_queries_per_step(20);
  a->set_max_steps(5);
  a->set_min_steps(3);
  a->set_policy_learning_rate(0.03);
  a->set_curvature_bound(1e-4);
  a->set_hidden_size(30);
  a->set_query_budget(200);
  a->set_eval_batch_size(20);
  c.set_num_images(images);
  c.set_example_images(1);
  return c;
}

TEST(PatchAttackEvalTest, CountsCleanErrorsAsWrongAndOutcomesDoNotDependOnTheOtherImages) {
  // Images 0 and 1: white, label 0 (correct, then fooled by any black patch in the corner);
  // image 2: white, label 2 (misclassified clean: not attacked, wrong).
  const auto data = std::make_shared<InMemoryDataset>(
      torch::full({3, 1, 16, 16}, 255, torch::kUInt8), torch::tensor({0, 0, 2}, torch::kLong), 3);
  auto dict = TextureDictionary::Open(BlackDictionary(), 3, 1, 16);
  ASSERT_THAT(dict.status(), IsOk());
  attacks_internal::DarkCornerClassifier victim;
  PatchAttackEvalOptions options;
  options.seed = 7;
  auto report = EvaluatePatchAttack(victim, *data, {}, *dict, Config(3), options);
  ASSERT_THAT(report.status(), IsOk());
  EXPECT_NEAR(report->clean_accuracy, 2.0 / 3, 1e-12);
  EXPECT_EQ(report->tpa_accuracy, 0.0);
  EXPECT_EQ(report->success_rate, 1.0);
  ASSERT_EQ(report->images.size(), 3u);
  EXPECT_FALSE(report->images[2].attacked);
  EXPECT_EQ(report->images[2].queries, 0);
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(report->images[i].success);
    EXPECT_NE(report->images[i].texture_class, report->images[i].label);
    EXPECT_EQ(report->images[i].queries, 3 * 20);  // fooled at once: the 3-step minimum
  }
  EXPECT_EQ(report->mean_queries, 60);
  EXPECT_EQ(report->examples.size(), 1u);
  // accuracy_after: budgets of 1 and 2 patches, both 0 once every attacked image fell.
  EXPECT_THAT(report->accuracy_after, ::testing::ElementsAre(0.0, 0.0));
  // Image 1 alone: the same texture class and outcome (its own seed stream).
  auto first_two = EvaluatePatchAttack(victim, *data, {}, *dict, Config(2), options);
  ASSERT_THAT(first_two.status(), IsOk());
  EXPECT_EQ(first_two->images[1].texture_class, report->images[1].texture_class);
  EXPECT_EQ(first_two->images[1].area, report->images[1].area);
}

TEST(PatchAttackEvalTest, BadConfigsNameTheirField) {
  proto::PatchAttackEvalConfig c = Config(5);
  EXPECT_THAT(ValidatePatchAttackEvalConfig(c, "tpa", 3, 16, 16, 3).message(),
              ::testing::HasSubstr("tpa.num_images: must be in [1, 3], got 5"));
  c = Config(2);
  c.mutable_attack()->set_area_fraction(2);
  EXPECT_THAT(ValidatePatchAttackEvalConfig(c, "tpa", 3, 16, 16, 3).message(),
              ::testing::HasSubstr("tpa.attack.area_fraction: must be in (0, 1), got 2"));
}

}  // namespace
}  // namespace robustness
