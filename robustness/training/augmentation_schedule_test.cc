#include "robustness/training/augmentation_schedule.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/status_matchers.h"
#include "robustness/config/parse_text_proto.h"

namespace robustness {
namespace {

using ::testing::HasSubstr;

// The paper's adversarial DeiT curriculum (timm_recipes.md section 9) on a 12-epoch recipe.
constexpr char kCurriculum[] = R"pb(
  epochs: 12
  batch_size: 8
  augmentation {
    pad_crop { padding: 2 }
    horizontal_flip: true
    rand_augment { spec: "rand-m9-mstd0.5-inc1" interpolation: BICUBIC fill: 128 }
    no_erasing {}
  }
  mixup {
    mixup_alpha: 0.8 cutmix_alpha: 0 cutmix_minmax { min: 0 max: 0 } prob: 1 switch_prob: 0.5
    mode: BATCH correct_lam: true
  }
  augmentation_schedule {
    rows { from_epoch: 0 rand_augment_magnitude: 1 mixup_prob: 0.5 cutmix_alpha: 0 switch_prob: 0.5 }
    rows { from_epoch: 1 rand_augment_magnitude: 1 mixup_prob: 0.6 cutmix_alpha: 0 switch_prob: 0.5 }
    rows { from_epoch: 2 rand_augment_magnitude: 2 mixup_prob: 0.7 cutmix_alpha: 0 switch_prob: 0.5 }
    rows { from_epoch: 3 rand_augment_magnitude: 3 mixup_prob: 0.8 cutmix_alpha: 0 switch_prob: 0.5 }
    rows { from_epoch: 4 rand_augment_magnitude: 4 mixup_prob: 0.9 cutmix_alpha: 0 switch_prob: 0.5 }
    rows { from_epoch: 5 rand_augment_magnitude: 5 mixup_prob: 1.0 cutmix_alpha: 0 switch_prob: 0.5 }
    rows { from_epoch: 6 rand_augment_magnitude: 6 mixup_prob: 1.0 cutmix_alpha: 1 switch_prob: 0.1 }
    rows { from_epoch: 7 rand_augment_magnitude: 7 mixup_prob: 1.0 cutmix_alpha: 1 switch_prob: 0.2 }
    rows { from_epoch: 8 rand_augment_magnitude: 8 mixup_prob: 0.9 cutmix_alpha: 1 switch_prob: 0.3 }
    rows { from_epoch: 9 rand_augment_magnitude: 9 mixup_prob: 0.95 cutmix_alpha: 1 switch_prob: 0.4 }
    rows { from_epoch: 10 rand_augment_magnitude: 9 mixup_prob: 1.0 cutmix_alpha: 1 switch_prob: 0.5 }
  }
)pb";

TEST(AugmentationSchedule, ReproducesThePapersCurriculumTable) {
  const auto config = ParseTextProtoOrDie<proto::TrainingConfig>(kCurriculum);
  ASSERT_THAT(ValidateAugmentationSchedule(config), IsOk());
  // epoch: m, mixup prob, cutmix alpha, switch prob (PAPER.md 3.6 / main_adv_deit.py).
  const struct { int m; double prob, cutmix, sw; } expected[12] = {
      {1, 0.5, 0, 0.5}, {1, 0.6, 0, 0.5}, {2, 0.7, 0, 0.5}, {3, 0.8, 0, 0.5},
      {4, 0.9, 0, 0.5}, {5, 1.0, 0, 0.5}, {6, 1.0, 1, 0.1}, {7, 1.0, 1, 0.2},
      {8, 0.9, 1, 0.3}, {9, 0.95, 1, 0.4}, {9, 1.0, 1, 0.5}, {9, 1.0, 1, 0.5}};
  for (int epoch = 0; epoch < 12; ++epoch) {
    const proto::TrainingConfig c = TrainingConfigForEpoch(config, epoch);
    EXPECT_EQ(c.augmentation().rand_augment().spec(),
              absl::StrCat("rand-n2-m", expected[epoch].m, "-mstd0.5-inc1"))
        << epoch;
    EXPECT_EQ(c.mixup().prob(), expected[epoch].prob) << epoch;
    EXPECT_EQ(c.mixup().cutmix_alpha(), expected[epoch].cutmix) << epoch;
    EXPECT_EQ(c.mixup().switch_prob(), expected[epoch].sw) << epoch;
  }
}

TEST(AugmentationSchedule, BadRowsNameRowFieldAndValue) {
  auto check = [&](const std::string& last_row, const std::string& message) {
    std::string text(kCurriculum, sizeof(kCurriculum) - 1);
    const size_t end = text.rfind("  }");
    text.insert(end, "    rows { " + last_row + " }\n");
    auto config = ParseTextProtoOrDie<proto::TrainingConfig>(text);
    EXPECT_THAT(ValidateAugmentationSchedule(config),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(message)))
        << last_row;
  };
  const std::string rest = " rand_augment_magnitude: 9 mixup_prob: 1 cutmix_alpha: 1 switch_prob: 0.5";
  check("from_epoch: 9" + rest,
        "augmentation_schedule.rows[11].from_epoch: must be above the previous row's 10 (rows in "
        "epoch order), got 9");
  check("from_epoch: 12" + rest,
        "augmentation_schedule.rows[11].from_epoch: must be in [0, epochs=12), got 12");
  check("from_epoch: 11 rand_augment_magnitude: 9 mixup_prob: 1.5 cutmix_alpha: 1 switch_prob: 0.5",
        "rows[11].mixup_prob: must be in [0, 1], got 1.5");
  check("from_epoch: 11 rand_augment_magnitude: 9 mixup_prob: 1 cutmix_alpha: -1 switch_prob: 0.5",
        "rows[11].cutmix_alpha: must be >= 0, got -1");
  check("from_epoch: 11 rand_augment_magnitude: -3 mixup_prob: 1 cutmix_alpha: 1 switch_prob: 0.5",
        "rand_augment_magnitude: must be >= 0, got -3");
  check("from_epoch: 11 rand_augment_magnitude: 9 mixup_prob: 1 cutmix_alpha: 1",
        "rows[11].switch_prob: must be set");
  auto no_mix = ParseTextProtoOrDie<proto::TrainingConfig>(
      "epochs: 3 augmentation { no_color {} } none {} augmentation_schedule { rows { from_epoch: 1 "
      "rand_augment_magnitude: 2 mixup_prob: 1 cutmix_alpha: 0 switch_prob: 0.2 } }");
  EXPECT_THAT(ValidateAugmentationSchedule(no_mix),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("needs augmentation.rand_augment and a mixup")));
  auto unset = ParseTextProtoOrDie<proto::TrainingConfig>("epochs: 3");
  EXPECT_THAT(ValidateAugmentationSchedule(unset),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("training.augmentation_curriculum: set one of")));
  auto fixed = ParseTextProtoOrDie<proto::TrainingConfig>("epochs: 3 fixed_augmentation {}");
  EXPECT_THAT(ValidateAugmentationSchedule(fixed), IsOk());
  EXPECT_EQ(TrainingConfigForEpoch(fixed, 2).DebugString(), fixed.DebugString());
}

}  // namespace
}  // namespace robustness
