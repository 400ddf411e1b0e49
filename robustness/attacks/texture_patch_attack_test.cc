#include "robustness/attacks/texture_patch_attack.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "robustness/attacks/internal/toy_models.h"
#include "robustness/base/seed.h"
#include "robustness/base/status_matchers.h"

namespace robustness {
namespace {

using ::testing::HasSubstr;

proto::PatchAttackConfig Config() {
  proto::PatchAttackConfig c;
  c.set_num_patches(4);
  c.set_area_fraction(0.1);
  c.set_area_mode(proto::PatchAttackConfig::TOTAL);
  c.set_goal(proto::PatchAttackConfig::NON_TARGETED);
  c.set_texture_class(-1);
  c.set_queries_per_step(40);
  c.set_max_steps(6);
  c.set_min_steps(3);
  c.set_policy_learning_rate(0.03);
  c.set_curvature_bound(1e-4);
  c.set_hidden_size(30);
  c.set_query_budget(4 * 6 * 40);
  c.set_eval_batch_size(64);
  return c;
}

// Scripted victims on 1 x 16 x 16 images, 3 classes.
// Looks only at the last row and column, which no patch can reach (the reference's ranges).
class EdgeOnly : public ImageClassifierImpl {
 public:
  torch::Tensor forward(const torch::Tensor& x) override {
    const torch::Tensor edge = x.select(2, 15).sum({1, 2}) + x.select(3, 15).sum({1, 2});
    return torch::stack({edge, torch::zeros_like(edge), 0.5 * edge}, 1);
  }
};
// A smooth victim the attack has to work on: class scores from fixed random weights.
class Linear : public ImageClassifierImpl {
 public:
  Linear() { weights_ = torch::randn({256, 3}, MakeCpuGenerator(5), torch::kFloat); }
  torch::Tensor forward(const torch::Tensor& x) override { return x.flatten(1).mm(weights_); }

 private:
  torch::Tensor weights_;
};

torch::Tensor Textures(float value) { return torch::full({3, 1, 16, 16}, value); }

TEST(TexturePatchAttackTest, PatchSidesAndBudgetsFollowTheAreaMode) {
  proto::PatchAttackConfig c = Config();
  EXPECT_EQ(PatchSide(c, 224, 224), 35);  // sheet section 2: 2.5% per patch
  c.set_area_mode(proto::PatchAttackConfig::PER_PATCH);
  EXPECT_EQ(PatchSide(c, 224, 224), 70);
  EXPECT_DOUBLE_EQ(AreaBudget(c), 0.4);
  c.set_area_fraction(0.035);
  c.set_num_patches(1);
  EXPECT_EQ(PatchSide(c, 224, 224), 41);
  EXPECT_EQ(PatchSide(Config(), 28, 28), 4);
}

TEST(TexturePatchAttackTest, InvariantsHoldOnASmoothVictim) {
  Linear victim;
  const torch::Tensor image = torch::rand({1, 16, 16}, MakeCpuGenerator(1), torch::kFloat);
  const torch::Tensor textures = torch::rand({3, 1, 16, 16}, MakeCpuGenerator(2), torch::kFloat);
  const int64_t label = victim.forward(image.unsqueeze(0)).argmax(1).item<int64_t>();
  for (auto mode : {proto::PatchAttackConfig::TOTAL, proto::PatchAttackConfig::PER_PATCH}) {
    proto::PatchAttackConfig c = Config();
    c.set_area_mode(mode);
    c.set_query_budget(10 * 40);  // binds before 4 agents x 6 steps
    TexturePatchAttack attack(c);
    torch::Generator gen = MakeCpuGenerator(3);
    const TpaOutcome out = attack.Run(victim, image, label, textures, -1, gen);
    EXPECT_LE(out.queries, c.query_budget());
    EXPECT_EQ(out.queries, out.steps * c.queries_per_step());
    EXPECT_LE(static_cast<int>(out.patches.size()), c.num_patches());
    EXPECT_LE(out.area, AreaBudget(c) + 1e-12);
    EXPECT_LE(out.patches.size() * out.side * out.side, AreaBudget(c) * 256 + 1e-9);
    // Pixels outside the patches are the clean image's; inside, the texture's.
    torch::Tensor inside = torch::zeros({16, 16}, torch::kBool);
    for (const PatchPlacement& p : out.patches) {
      inside.narrow(0, p.row, out.side).narrow(1, p.col, out.side).fill_(true);
    }
    EXPECT_TRUE(torch::equal(out.adversarial[0].index({inside.logical_not()}),
                             image[0].index({inside.logical_not()})));
    EXPECT_TRUE(torch::equal(out.adversarial, PastePatches(image, textures, out.patches, out.side)));
    EXPECT_NEAR(out.area, inside.sum().item<double>() / 256, 1e-12);
    EXPECT_EQ(out.success_after.size(), 4u);
    EXPECT_EQ(out.success, out.final_prediction != label);
    // Deterministic: the same generator state gives the same outcome.
    torch::Generator again = MakeCpuGenerator(3);
    const TpaOutcome out2 = attack.Run(victim, image, label, textures, -1, again);
    EXPECT_TRUE(torch::equal(out.adversarial, out2.adversarial));
    EXPECT_EQ(out.queries, out2.queries);
  }
}

TEST(TexturePatchAttackTest, NeverFoolsAVictimThatIgnoresWherePatchesGo) {
  EdgeOnly victim;
  const torch::Tensor image = torch::full({1, 16, 16}, 0.7f);
  TexturePatchAttack attack(Config());
  torch::Generator gen = MakeCpuGenerator(4);
  const TpaOutcome out = attack.Run(victim, image, 0, Textures(0.0f), -1, gen);
  EXPECT_FALSE(out.success);
  EXPECT_EQ(out.final_prediction, 0);
  EXPECT_EQ(out.patches.size(), 4u);  // every agent ran, none helped
  // Saturated rewards (p_y = 1): each agent stops at the curvature test after min_steps.
  EXPECT_EQ(out.queries, 4 * 3 * 40);
}

TEST(TexturePatchAttackTest, FoolsAVictimAPatchCanReachAndCountsQueriesAsTheReference) {
  attacks_internal::DarkCornerClassifier victim;
  const torch::Tensor image = torch::ones({1, 16, 16});
  TexturePatchAttack attack(Config());
  torch::Generator gen = MakeCpuGenerator(5);
  const TpaOutcome out = attack.Run(victim, image, 0, Textures(0.0f), -1, gen);
  EXPECT_TRUE(out.success);
  EXPECT_EQ(out.final_prediction, 1);
  EXPECT_EQ(out.patches.size(), 1u);
  EXPECT_EQ(out.queries, 3 * 40);  // the 3-step minimum counts whole batches
  EXPECT_TRUE(out.success_after[0] && out.success_after[3]);
  EXPECT_EQ(out.queries_after[3], out.queries);
  // Targeted at class 2, which DarkCornerClassifier never says: never a success.
  proto::PatchAttackConfig c = Config();
  c.set_goal(proto::PatchAttackConfig::TARGETED);
  torch::Generator gen2 = MakeCpuGenerator(5);
  EXPECT_FALSE(TexturePatchAttack(c).Run(victim, image, 0, Textures(0.0f), 2, gen2).success);
}

TEST(TexturePatchAttackTest, BadConfigsAreClearErrors) {
  proto::PatchAttackConfig c = Config();
  c.set_area_fraction(1.5);
  EXPECT_THAT(ValidatePatchAttackConfig(c, "tpa", 16, 16, 3).message(),
              HasSubstr("tpa.area_fraction: must be in (0, 1), got 1.5"));
  c.set_area_fraction(0.0);
  EXPECT_THAT(ValidatePatchAttackConfig(c, "tpa", 16, 16, 3).message(),
              HasSubstr("tpa.area_fraction: must be in (0, 1), got 0"));
  c = Config();
  c.set_num_patches(0);
  EXPECT_THAT(ValidatePatchAttackConfig(c, "tpa", 16, 16, 3).message(),
              HasSubstr("tpa.num_patches: must be >= 1, got 0"));
  c = Config();
  c.set_area_fraction(0.001);
  EXPECT_THAT(ValidatePatchAttackConfig(c, "tpa", 16, 16, 3).message(),
              HasSubstr("gives patches of 0 px at 16 x 16"));
  c = Config();
  c.set_query_budget(10);
  EXPECT_THAT(ValidatePatchAttackConfig(c, "tpa", 16, 16, 3).message(),
              HasSubstr("tpa.query_budget: 10 is below one step's queries_per_step 40"));
  c = Config();
  c.set_texture_class(3);
  EXPECT_THAT(ValidatePatchAttackConfig(c, "tpa", 16, 16, 3).message(),
              HasSubstr("tpa.texture_class: must be -1 (random) or in [0, 3), got 3"));
  EXPECT_THAT(ValidatePatchAttackConfig(Config(), "tpa", 16, 16, 3), IsOk());
}

}  // namespace
}  // namespace robustness
