// Learning-rate schedules with linear warm-up (PAPER.md 3.2 step decay, 3.3 cosine).
//
// The rate is a pure function of training progress, so a resumed run recomputes it exactly.
// `epoch` is fractional progress in [0, total_epochs): epoch e, step s of S is e + s / S.
// With per_step = false the progress is floored to the epoch (timm's epoch-level schedulers).
//
// ScheduleConfig.semantics picks the formulas (timm_recipes.md section 6):
//   PROGRESS: ours. t = progress; warm-up then cosine over the remaining epochs.
//   TIMM: timm 0.3.2 as its train.py steps it: epoch e trains at _get_lr(e), where
//     _get_lr(t) = warmup_start_lr + t (peak - warmup_start_lr) / warmup    for t < warmup,
//                = min_lr + (peak - min_lr) (1 + cos(pi t / T)) / 2           cosine, T = epochs -
//                  cooldown (t not shifted by the warm-up; min_lr for t >= T),
//                = peak * gamma^(milestones <= t)                             step.
//   TIMM_DEIT_LOOP: the off-by-one of DeiT's and the paper's loops, which call step(epoch) after
//     each epoch: epoch 0 trains at warmup_start_lr (set by the scheduler's constructor) and
//     epoch e >= 1 at _get_lr(e - 1). PAPER.md 3.6 "off-by-one"; the paper's runs used this.
#ifndef ROBUSTNESS_TRAINING_LR_SCHEDULE_H_
#define ROBUSTNESS_TRAINING_LR_SCHEDULE_H_

#include "absl/status/status.h"
#include "robustness/proto/optimizer.pb.h"

namespace robustness {

// Range checks: semantics set, warm-up in [0, epochs), step milestones increasing in
// (0, epochs], gamma in (0, 1], cosine min_lr in [0, peak_lr] and cooldown_epochs in
// [0, epochs - warmup), warmup_start_lr in [0, peak_lr], per_step false under the TIMM
// semantics (timm's schedulers are epoch-level). Errors name the field and value.
absl::Status ValidateScheduleConfig(const proto::ScheduleConfig& schedule, double peak_lr,
                                    int total_epochs);

// PROGRESS: warm-up linear from warmup_start_lr (epoch 0) to peak_lr (epoch warmup_epochs);
// step: peak_lr * gamma^(number of milestones <= epoch); cosine: min_lr + (peak_lr - min_lr) *
// (1 + cos(pi * t)) / 2, t = (epoch - warmup) / (total - cooldown - warmup), min_lr after.
// TIMM, TIMM_DEIT_LOOP: as above; `epoch` is floored to the epoch index.
double LearningRateAt(const proto::ScheduleConfig& schedule, double peak_lr, int total_epochs,
                      double epoch);

}  // namespace robustness

#endif  // ROBUSTNESS_TRAINING_LR_SCHEDULE_H_
