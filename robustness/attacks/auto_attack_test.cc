#include "robustness/attacks/auto_attack.h"

#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/attacks/apgd.h"
#include "robustness/attacks/attack_factory.h"
#include "robustness/attacks/auto_attack_version.h"
#include "robustness/attacks/internal/toy_models.h"
#include "robustness/attacks/square.h"
#include "robustness/base/seed.h"
#include "robustness/config/parse_text_proto.h"

namespace robustness {
namespace {

using attacks_internal::SmallConvNet;
using ::testing::HasSubstr;

constexpr double kEps = 0.04;

ApgdOptions Apgd(proto::ApgdLoss loss) {
  ApgdOptions o;
  o.epsilon = kEps;
  o.loss = loss;
  o.num_iterations = 15;
  o.num_target_classes = loss == proto::DLR_TARGETED ? 3 : 0;
  return o;
}

class AutoAttackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_.eval();
    labels_ = model_.forward(images_).argmax(1).detach();
    labels_.slice(0, 0, 5).fill_(1);  // a few clean errors (or not, where the model says 1)
  }
  SmallConvNet model_{/*channels=*/1, /*image_size=*/8, /*num_classes=*/5, /*seed=*/21};
  torch::Generator gen_ = MakeCpuGenerator(21);
  torch::Tensor images_ = torch::rand({40, 1, 8, 8}, gen_);
  torch::Tensor labels_;
  robustness::Apgd ce_{"APGD-CE", Apgd(proto::CE)};
  robustness::Apgd t_{"APGD-T", Apgd(proto::DLR_TARGETED)};
  Square square_{"Square", SquareOptions{kEps, 100, 0.8, 1}};
};

TEST_F(AutoAttackTest, StagesAreSequentialAndTheRecordIsConsistent) {
  const AutoAttackReport r = RunAutoAttack(model_, images_, labels_, {&ce_, &t_, &square_},
                                           LpNorm::kLinf, /*seed=*/0, /*batch_size=*/16);
  const torch::Tensor clean_ok = model_.forward(images_).argmax(1).eq(labels_);
  EXPECT_DOUBLE_EQ(r.clean_accuracy, clean_ok.to(torch::kDouble).mean().item<double>());
  ASSERT_EQ(r.stages.size(), 3u);
  double previous = r.clean_accuracy;
  int64_t robust_before = clean_ok.sum().item<int64_t>();
  for (const AutoAttackStageResult& s : r.stages) {
    EXPECT_LE(s.robust_accuracy, previous) << s.name;
    EXPECT_EQ(s.attacked, robust_before) << s.name << ": runs only on the still-robust images";
    robust_before -= s.fooled;
    previous = s.robust_accuracy;
  }
  EXPECT_LT(r.stages.back().robust_accuracy, r.clean_accuracy) << "nothing fooled";
  // fooled_by: -1 exactly on clean errors; a stage index where the final image is wrong.
  EXPECT_TRUE(torch::equal(r.fooled_by.eq(-1), clean_ok.logical_not()));
  const torch::Tensor final_prediction = model_.forward(r.x_adv).argmax(1);
  EXPECT_TRUE(torch::equal(final_prediction, r.final_prediction));
  EXPECT_TRUE(torch::equal(r.fooled_by.ge(0), clean_ok.logical_and(final_prediction.ne(labels_))));
  EXPECT_EQ(r.fooled_by.eq(-2).sum().item<int64_t>(),
            static_cast<int64_t>(std::llround(r.stages.back().robust_accuracy * 40)));
  EXPECT_LE(r.max_perturbation, kEps + 1e-6);
  EXPECT_TRUE(r.warnings.empty()) << r.warnings[0];
  // Misclassified clean images keep their clean image.
  const torch::Tensor wrong = clean_ok.logical_not().nonzero().view(-1);
  EXPECT_TRUE(torch::equal(r.x_adv.index_select(0, wrong), images_.index_select(0, wrong)));
}

TEST_F(AutoAttackTest, StandardVersionNeverAbovePgd100OnTheSameImages) {
  // The issue's property: the full standard AutoAttack (APGD-CE, APGD-T, FAB-T, Square, the
  // reference's settings) leaves no more images robust than PGD-100 (step eps / 10, random start)
  // on the same images, per image as well as in total for this model.
  std::vector<std::unique_ptr<Attack>> owned;
  std::vector<const Attack*> stages;
  const auto configs = AutoAttackVersionStages(AutoAttackVersion::kStandard, proto::LINF);
  ASSERT_TRUE(configs.ok());
  for (const proto::AttackConfig& c : *configs) {
    owned.push_back(*CreateAttack(c, kEps));
    stages.push_back(owned.back().get());
  }
  const AutoAttackReport aa = RunAutoAttack(model_, images_, labels_, stages, LpNorm::kLinf,
                                            /*seed=*/0, /*batch_size=*/40);
  ASSERT_EQ(aa.stages.size(), 4u);
  const proto::AttackConfig pgd_config = ParseTextProtoOrDie<proto::AttackConfig>(R"pb(
    name: "PGD-100"
    pgd { norm: LINF num_steps: 100 step_relative_to_epsilon: 0.1 random_start: true restarts: 1
          target_mode: UNTARGETED })pb");
  std::unique_ptr<Attack> pgd = *CreateAttack(pgd_config, kEps);
  torch::Generator gen = MakeCpuGenerator(3);
  const torch::Tensor pgd_adv = pgd->Perturb(model_, images_, labels_, gen);
  torch::NoGradGuard no_grad;
  const torch::Tensor pgd_robust = model_.forward(pgd_adv).argmax(1).eq(labels_);
  const torch::Tensor aa_robust = aa.fooled_by.eq(-2);
  EXPECT_LE(aa_robust.sum().item<int64_t>(), pgd_robust.sum().item<int64_t>());
  EXPECT_FALSE(aa_robust.logical_and(pgd_robust.logical_not()).any().item<bool>())
      << "an image PGD-100 fooled survived AutoAttack";
  EXPECT_GT(aa_robust.sum().item<int64_t>(), 0) << "the radius should leave some images robust";
}

TEST_F(AutoAttackTest, SameSeedSameReportBitForBit) {
  const AutoAttackReport a =
      RunAutoAttack(model_, images_, labels_, {&ce_, &t_}, LpNorm::kLinf, 3, 16);
  const AutoAttackReport b =
      RunAutoAttack(model_, images_, labels_, {&ce_, &t_}, LpNorm::kLinf, 3, 16);
  EXPECT_TRUE(torch::equal(a.x_adv, b.x_adv));
  EXPECT_TRUE(torch::equal(a.fooled_by, b.fooled_by));
}

// A model whose outputs are softmax probabilities, and one that adds noise to its logits.
class Softmaxed : public ImageClassifierImpl {
 public:
  explicit Softmaxed(SmallConvNet* inner) : inner_(inner) {}
  torch::Tensor forward(const torch::Tensor& x) override { return inner_->forward(x).softmax(1); }
  SmallConvNet* inner_;
};
class Noisy : public ImageClassifierImpl {
 public:
  explicit Noisy(SmallConvNet* inner) : inner_(inner) {}
  torch::Tensor forward(const torch::Tensor& x) override {
    const torch::Tensor z = inner_->forward(x);
    return z + 0.5 * torch::randn_like(z);
  }
  SmallConvNet* inner_;
};

TEST_F(AutoAttackTest, WarnsAboutProbabilityOutputsAndRandomisedModels) {
  Softmaxed probabilities(&model_);
  const AutoAttackReport p =
      RunAutoAttack(probabilities, images_, labels_, {}, LpNorm::kLinf, 0, 16);
  ASSERT_FALSE(p.warnings.empty());
  EXPECT_THAT(p.warnings[0], HasSubstr("look like probabilities"));
  Noisy noisy(&model_);
  const AutoAttackReport q = RunAutoAttack(noisy, images_, labels_, {}, LpNorm::kLinf, 0, 16);
  ASSERT_FALSE(q.warnings.empty());
  EXPECT_THAT(q.warnings[0], HasSubstr("looks randomised"));
}

TEST_F(AutoAttackTest, NothingToAttackRunsNoStage) {
  const torch::Tensor wrong = (model_.forward(images_).argmax(1) + 1).remainder(5).detach();
  const AutoAttackReport r =
      RunAutoAttack(model_, images_, wrong, {&ce_, &t_, &square_}, LpNorm::kLinf, 0, 16);
  EXPECT_EQ(r.clean_accuracy, 0.0);
  EXPECT_TRUE(r.stages.empty());  // as the reference: no robust image, no stage runs
  EXPECT_TRUE(torch::equal(r.x_adv, images_));
  EXPECT_EQ(r.max_perturbation, 0.0);
}

}  // namespace
}  // namespace robustness
