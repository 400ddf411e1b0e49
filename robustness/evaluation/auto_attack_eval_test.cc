#include "robustness/evaluation/auto_attack_eval.h"

#include <limits>
#include <memory>
#include <string>

#include <ATen/Parallel.h>
#include <torch/types.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/attacks/internal/toy_models.h"
#include "robustness/base/status_matchers.h"
#include "robustness/config/parse_text_proto.h"
#include "robustness/datasets/in_memory_dataset.h"

namespace robustness {
namespace {

using ::testing::HasSubstr;

constexpr char kStages[] = R"pb(
  custom {
  stages {
    name: "APGD-CE"
    apgd { norm: LINF loss: CE num_iterations: 8 restarts: 1 num_target_classes: 0 rho: 0.75
           eot_iterations: 1 }
  }
  stages { name: "Square" square { norm: LINF num_queries: 30 p_init: 0.8 restarts: 1 } }
  }
)pb";

proto::AutoAttackEvalConfig Config(const std::string& extra) {
  return ParseTextProtoOrDie<proto::AutoAttackEvalConfig>(
      "norm: LINF radii { over_255: 8 } num_images: 0 batch_size: 7 " +
      std::string(kStages) + extra);
}

TEST(ValidateAutoAttackEvalConfig, NamesTheFieldAndValue) {
  EXPECT_THAT(ValidateAutoAttackEvalConfig(Config(""), 100), IsOk());
  proto::AutoAttackEvalConfig standard = Config("");
  standard.mutable_standard();
  EXPECT_THAT(ValidateAutoAttackEvalConfig(standard, 100), IsOk());
  EXPECT_EQ(AutoAttackVersionName(standard), "STANDARD");
  const auto expanded = AutoAttackEvalStages(standard);
  ASSERT_THAT(expanded, IsOk());
  ASSERT_EQ(expanded->size(), 4u);
  EXPECT_EQ((*expanded)[2].name(), "FAB-T");
  proto::AutoAttackEvalConfig custom_empty = Config("");
  custom_empty.mutable_custom()->clear_stages();
  EXPECT_THAT(ValidateAutoAttackEvalConfig(custom_empty, 100),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("auto_attack.custom.stages: must list at least one stage")));
  proto::AutoAttackEvalConfig unset = Config("");
  unset.clear_custom();
  EXPECT_THAT(ValidateAutoAttackEvalConfig(unset, 100),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("auto_attack.version: must be set")));
  proto::AutoAttackEvalConfig l2 = Config("");
  l2.set_norm(proto::L2);
  EXPECT_THAT(ValidateAutoAttackEvalConfig(l2, 100),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("auto_attack.custom.stages[0]: its norm LINF differs from "
                                 "auto_attack.norm L2")));
  proto::AutoAttackEvalConfig twice = Config("");
  *twice.mutable_custom()->add_stages() = twice.custom().stages(1);
  EXPECT_THAT(ValidateAutoAttackEvalConfig(twice, 100),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("auto_attack.custom.stages[2].name: \"Square\" is used twice")));
  proto::AutoAttackEvalConfig bad_stage = Config("");
  bad_stage.mutable_custom()->mutable_stages(0)->mutable_apgd()->set_rho(2);
  EXPECT_THAT(ValidateAutoAttackEvalConfig(bad_stage, 100),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("auto_attack.custom.stages[0].apgd.rho: must be in (0, 1], got 2")));
  proto::AutoAttackEvalConfig too_many = Config("");
  too_many.set_num_images(101);
  EXPECT_THAT(ValidateAutoAttackEvalConfig(too_many, 100),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("auto_attack.num_images: must be in [0, 100]")));
}

// 30 random 8x8 grey images labelled with the model's own predictions (all clean-correct).
struct ToyData {
  torch::Tensor images, labels;
};
ToyData PredictedToyData(attacks_internal::SmallConvNet& model, uint64_t seed) {
  torch::manual_seed(seed);
  ToyData d;
  d.images = torch::randint(0, 256, {30, 1, 8, 8}, torch::kByte);
  torch::NoGradGuard no_grad;
  d.labels = model.forward(d.images.to(torch::kFloat) / 255.0).argmax(1);
  return d;
}

TEST(EvaluateAutoAttack, TotalsAgreeWithThePerImageOutcomes) {
  attacks_internal::SmallConvNet model(1, 8, 4, 3);
  model.eval();
  auto [images, labels] = PredictedToyData(model, 3);
  labels.slice(0, 0, 4).fill_(0);
  auto data = std::make_shared<InMemoryDataset>(images, labels, 4);
  EvalOptions options{"toy", 5, 1, torch::kCPU};
  absl::StatusOr<AutoAttackEvalReport> r =
      EvaluateAutoAttack(model, data, ImageTransform(), Config(""), options, true);
  ASSERT_THAT(r, IsOk());
  ASSERT_EQ(r->radii.size(), 1u);
  const AutoAttackRadiusResult& radius = r->radii[0];
  EXPECT_EQ(r->num_images, 30);
  EXPECT_EQ(r->clean_correct, r->clean_prediction.eq(labels).sum().item<int64_t>());
  EXPECT_EQ(radius.stages[0].robust_after,
            r->clean_correct - radius.fooled_by.eq(0).sum().item<int64_t>());
  EXPECT_EQ(radius.robust, radius.fooled_by.eq(-2).sum().item<int64_t>());
  EXPECT_EQ(radius.stages[1].robust_after, radius.robust);
  EXPECT_EQ(radius.stages[0].attacked, r->clean_correct);
  EXPECT_EQ(radius.stages[1].attacked, radius.stages[0].robust_after);
  EXPECT_LT(radius.robust, r->clean_correct) << "nothing fooled";
  EXPECT_LE(radius.max_perturbation, 8.0 / 255 + 1e-6);
  ASSERT_TRUE(radius.x_adv.defined());
  EXPECT_EQ(radius.x_adv.sizes(), at::IntArrayRef({30, 1, 8, 8}));
}

// Units (batch x radius) run on one worker per thread, one thread each: the outcome of every
// image is the same with 1 or 2 threads (robustness/base/unit_workers.h), bit for bit.
TEST(EvaluateAutoAttack, SameOutcomesForAnyThreadCount) {
  attacks_internal::SmallConvNet model(1, 8, 4, 3);
  model.eval();
  const auto [images, labels] = PredictedToyData(model, 5);
  auto data = std::make_shared<InMemoryDataset>(images, labels, 4);
  proto::AutoAttackEvalConfig config = Config("");
  config.add_radii()->set_over_255(2);  // 5 batches x 2 radii = 10 units
  EvalOptions options{"threads", 5, 1, torch::kCPU};
  const int caller = at::get_num_threads();
  at::set_num_threads(1);
  absl::StatusOr<AutoAttackEvalReport> one =
      EvaluateAutoAttack(model, data, ImageTransform(), config, options, true);
  at::set_num_threads(2);
  absl::StatusOr<AutoAttackEvalReport> two =
      EvaluateAutoAttack(model, data, ImageTransform(), config, options, true);
  at::set_num_threads(caller);
  ASSERT_THAT(one, IsOk());
  ASSERT_THAT(two, IsOk());
  EXPECT_TRUE(torch::equal(one->labels, labels));
  EXPECT_TRUE(torch::equal(two->labels, labels));
  for (int r = 0; r < 2; ++r) {
    EXPECT_TRUE(torch::equal(one->radii[r].fooled_by, two->radii[r].fooled_by)) << r;
    EXPECT_TRUE(torch::equal(one->radii[r].x_adv, two->radii[r].x_adv)) << r;
    EXPECT_EQ(one->radii[r].robust, two->radii[r].robust) << r;
    for (int k = 0; k < 2; ++k) {
      EXPECT_EQ(one->radii[r].stages[k].robust_after, two->radii[r].stages[k].robust_after);
    }
  }
  EXPECT_LT(one->radii[0].robust, one->radii[1].robust) << "8/255 fools more than 2/255";
}

// Logits that are NaN for every image (a broken model): a clear error, not a silent 0% or 100%.
class NanModel : public ImageClassifierImpl {
 public:
  torch::Tensor forward(const torch::Tensor& images) override {
    return images.flatten(1).narrow(1, 0, 4) * std::numeric_limits<float>::quiet_NaN();
  }
};

TEST(EvaluateAutoAttack, NanLogitsAndEmptyDataAreClearErrors) {
  torch::manual_seed(4);
  const torch::Tensor images = torch::randint(0, 256, {6, 1, 8, 8}, torch::kByte);
  auto data = std::make_shared<InMemoryDataset>(images, torch::zeros({6}, torch::kLong), 4);
  EvalOptions options{"nan", 5, 1, torch::kCPU};
  NanModel nan_model;
  EXPECT_THAT(EvaluateAutoAttack(nan_model, data, ImageTransform(), Config(""), options, false),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("auto_attack on images [0, 6): AutoAttack: the model returned "
                                 "NaN logits")));
  auto empty = std::make_shared<InMemoryDataset>(torch::zeros({0, 1, 8, 8}, torch::kByte),
                                                 torch::zeros({0}, torch::kLong), 4);
  attacks_internal::SmallConvNet model(1, 8, 4, 3);
  EXPECT_THAT(EvaluateAutoAttack(model, empty, ImageTransform(), Config(""), options, false),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("the data has no images")));
}

}  // namespace
}  // namespace robustness
