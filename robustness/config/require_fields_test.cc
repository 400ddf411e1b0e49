#include "robustness/config/require_fields.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/status_matchers.h"
#include "robustness/config/parse_text_proto.h"
#include "robustness/proto/evaluation.pb.h"
#include "robustness/proto/training.pb.h"

namespace robustness {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(RequireAllFieldsSet, CompleteMessagePasses) {
  auto config = ParseTextProtoOrDie<proto::OptimizerConfig>(R"pb(
    peak_lr: 0.1 weight_decay: 0 no_decay_on_1d_params: true
    sgd { momentum: 0.9 nesterov: false })pb");
  EXPECT_THAT(RequireAllFieldsSet(config, "x.pbtxt"), IsOk());
}

TEST(RequireAllFieldsSet, ZeroIsSetButAbsentIsMissing) {
  auto config = ParseTextProtoOrDie<proto::OptimizerConfig>(R"pb(
    peak_lr: 0.1 no_decay_on_1d_params: true sgd { momentum: 0 })pb");
  EXPECT_THAT(MissingFields(config), ElementsAre("weight_decay", "sgd.nesterov"));
}

TEST(RequireAllFieldsSet, UnsetOneofListsItsChoices) {
  auto config = ParseTextProtoOrDie<proto::OptimizerConfig>(R"pb(
    peak_lr: 0.1 weight_decay: 0 no_decay_on_1d_params: true)pb");
  EXPECT_THAT(RequireAllFieldsSet(config, "cfg.pbtxt"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("cfg.pbtxt: missing required fields (every hyperparameter must "
                                 "be set): optimizer (one of: sgd, adamw)")));
}

TEST(RequireAllFieldsSet, WalksRepeatedMessagesWithIndices) {
  auto config = ParseTextProtoOrDie<proto::RobustnessEvalConfig>(R"pb(
    radii { pixels: 0.001 } num_images: 10 batch_size: 5
    attacks { name: "FGSM" fgsm { norm: LINF target_mode: UNTARGETED } }
    attacks { name: "PGD" pgd { norm: LINF num_steps: 3 random_start: true restarts: 1
                               target_mode: UNTARGETED } })pb");
  EXPECT_THAT(MissingFields(config), ElementsAre("attacks[1].pgd.step_size (one of: "
                                                 "step_relative_to_epsilon, step_absolute)"));
}

TEST(RequireAllFieldsSet, EmptyRepeatedFieldIsMissing) {
  auto config = ParseTextProtoOrDie<proto::StepDecay>("gamma: 0.1");
  EXPECT_THAT(MissingFields(config), ElementsAre("milestones"));
}

}  // namespace
}  // namespace robustness
