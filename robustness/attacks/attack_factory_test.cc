#include "robustness/attacks/attack_factory.h"

#include <cmath>
#include <memory>
#include <string>

#include <torch/types.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/attacks/internal/toy_models.h"
#include "robustness/base/seed.h"
#include "robustness/base/status_matchers.h"
#include "robustness/config/parse_text_proto.h"

namespace robustness {
namespace {

using ::testing::Eq;

constexpr char kPgd[] = R"pb(
  name: "PGD-10"
  pgd {
    norm: LINF num_steps: 10 step_absolute { over_255: 1 } random_start: true restarts: 1
    target_mode: UNTARGETED
  })pb";
constexpr char kFgsm[] = R"pb(name: "FGSM" fgsm { norm: L2 target_mode: TARGET_LEAST_LIKELY })pb";

proto::AttackConfig Config(const std::string& text) {
  return ParseTextProtoOrDie<proto::AttackConfig>(text);
}

auto Invalid(const std::string& message) {
  return StatusIs(absl::StatusCode::kInvalidArgument, Eq(message));
}

TEST(CreateAttack, BuildsTheConfiguredAttackWithItsName) {
  attacks_internal::LinearClassifier model(16, 3, /*seed=*/1);
  torch::Generator gen = MakeCpuGenerator(1);
  torch::Tensor images = torch::rand({4, 1, 4, 4}, gen);
  torch::Tensor labels = torch::tensor({0L, 1L, 2L, 0L});
  for (const char* text : {kPgd, kFgsm}) {
    absl::StatusOr<std::unique_ptr<Attack>> attack = CreateAttack(Config(text), 4.0 / 255);
    ASSERT_THAT(attack, IsOk());
    EXPECT_EQ((*attack)->name(), Config(text).name());
    torch::Tensor x = (*attack)->Perturb(model, images, labels, gen);
    EXPECT_EQ(x.sizes(), images.sizes());
    EXPECT_GT((x - images).abs().max().item<float>(), 0.0f);
  }
}

TEST(CreateAttack, RejectsEpsilonOutsideTheUnitInterval) {
  EXPECT_THAT(CreateAttack(Config(kPgd), 4.0),  // 0-255 scale by mistake.
              Invalid("epsilon: must be in (0, 1] pixel units, got 4"));
  EXPECT_THAT(CreateAttack(Config(kPgd), 0.0),
              Invalid("epsilon: must be in (0, 1] pixel units, got 0"));
  EXPECT_THAT(CreateAttack(Config(kPgd), std::nan("")),
              Invalid("epsilon: must be in (0, 1] pixel units, got nan"));
}

TEST(CreateAttack, ReportsConfigErrorsInsteadOfCrashing) {
  proto::AttackConfig config = Config(kPgd);
  config.mutable_pgd()->set_num_steps(0);
  EXPECT_THAT(CreateAttack(config, 4.0 / 255),
              Invalid("attack.pgd.num_steps: must be >= 1, got 0"));
}

TEST(ValidateAttackConfig, NamesTheFieldPathOnEveryError) {
  EXPECT_THAT(ValidateAttackConfig(Config(kPgd)), IsOk());
  EXPECT_THAT(ValidateAttackConfig(Config(kFgsm)), IsOk());
  EXPECT_THAT(ValidateAttackConfig(Config(R"pb(fgsm { norm: LINF target_mode: UNTARGETED })pb")),
              Invalid("attack.name: must be a non-empty column label"));
  EXPECT_THAT(ValidateAttackConfig(Config(R"pb(name: "x")pb")),
              Invalid("attack.attack: must be set (one of fgsm, pgd, apgd, square, fab)"));
  EXPECT_THAT(ValidateAttackConfig(Config(R"pb(name: "x" fgsm { norm: LINF })pb")),
              Invalid("attack.fgsm.target_mode: must be UNTARGETED, TARGET_RANDOM_OTHER or "
                      "TARGET_LEAST_LIKELY, got TARGET_MODE_UNSPECIFIED"));
  EXPECT_THAT(
      ValidateAttackConfig(Config(R"pb(name: "APGD-CE"
                                       apgd {
                                         norm: LINF loss: CE num_iterations: 100 restarts: 1
                                         num_target_classes: 0 rho: 0.75 eot_iterations: 0
                                       })pb")),
      Invalid("attack.apgd.eot_iterations: must be >= 1, got 0"));
  proto::AttackConfig pgd = Config(kPgd);
  pgd.mutable_pgd()->mutable_step_absolute()->set_over_255(300);
  EXPECT_THAT(ValidateAttackConfig(pgd),
              Invalid("attack.pgd.step_absolute: must be in (0, 1] pixel units, got 300/255"));
}

}  // namespace
}  // namespace robustness
