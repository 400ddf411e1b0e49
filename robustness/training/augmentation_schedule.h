// The per-epoch augmentation curriculum (PAPER.md 3.6; the paper's main_adv_deit.py rebuilds its
// RandAugment loader and Mixup at the top of each epoch, timm_recipes.md section 9):
// TrainingConfig.augmentation_schedule rows set the RandAugment magnitude and the Mixup / CutMix
// probabilities from their epoch on (the paper's loop overwrites its args; the changes persist).
#ifndef ROBUSTNESS_TRAINING_AUGMENTATION_SCHEDULE_H_
#define ROBUSTNESS_TRAINING_AUGMENTATION_SCHEDULE_H_

#include "absl/status/status.h"
#include "robustness/proto/training.pb.h"

namespace robustness {

// InvalidArgument naming the row and field ("training.augmentation_schedule.rows[2].from_epoch:
// ...") and the value for: no curriculum case set; a schedule with no rows, or without
// augmentation.rand_augment and mixup; an unset field; from_epoch < 0, >= epochs, or not above
// the previous row's; rand_augment_magnitude < 0; mixup_prob or switch_prob outside [0, 1];
// cutmix_alpha < 0; a row after which the Mixup block is invalid (e.g. both alphas 0,
// ValidateMixupConfig's message). fixed_augmentation {} is always valid.
absl::Status ValidateAugmentationSchedule(const proto::TrainingConfig& config);

// The recipe in force during `epoch` (>= 0): `config` with every row whose from_epoch <= epoch
// applied in order (the RandAugment string rewritten with the new m, canonically formatted).
// Requires a config that passed ValidateAugmentationSchedule.
proto::TrainingConfig TrainingConfigForEpoch(const proto::TrainingConfig& config, int epoch);

}  // namespace robustness

#endif  // ROBUSTNESS_TRAINING_AUGMENTATION_SCHEDULE_H_
