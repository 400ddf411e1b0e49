// Learning-rate schedules with linear warm-up (PAPER.md 3.2 step decay, 3.3 cosine).
//
// The rate is a pure function of training progress, so a resumed run recomputes it exactly.
// `epoch` is fractional progress in [0, total_epochs): epoch e, step s of S is e + s / S.
// With per_step = false the progress is floored to the epoch (timm's epoch-level schedulers).
//
// Deviation from the paper's code, on purpose: timm's scheduler is stepped after each epoch, so
// its epoch e trains with the value scheduled for e - 1 (PAPER.md 3.6, "off-by-one"). We use the
// value for e; with warm-up from warmup_start_lr that shifts the curve one epoch earlier.
#ifndef ROBUSTNESS_TRAINING_LR_SCHEDULE_H_
#define ROBUSTNESS_TRAINING_LR_SCHEDULE_H_

#include "absl/status/status.h"
#include "robustness/proto/optimizer.pb.h"

namespace robustness {

// Range checks: warm-up in [0, epochs), step milestones increasing in (0, epochs], gamma in
// (0, 1], cosine min_lr in [0, peak_lr], warmup_start_lr in [0, peak_lr]. Errors name the field.
absl::Status ValidateScheduleConfig(const proto::ScheduleConfig& schedule, double peak_lr,
                                    int total_epochs);

// Warm-up: linear from warmup_start_lr (epoch 0) to peak_lr (epoch warmup_epochs).
// Step: peak_lr * gamma^(number of milestones <= epoch).
// Cosine: min_lr + (peak_lr - min_lr) * (1 + cos(pi * t)) / 2, t = (epoch - warmup) /
//         (total - warmup).
double LearningRateAt(const proto::ScheduleConfig& schedule, double peak_lr, int total_epochs,
                      double epoch);

}  // namespace robustness

#endif  // ROBUSTNESS_TRAINING_LR_SCHEDULE_H_
