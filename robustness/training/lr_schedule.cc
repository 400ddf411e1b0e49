#include "robustness/training/lr_schedule.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace robustness {

absl::Status ValidateScheduleConfig(const proto::ScheduleConfig& s, double peak_lr,
                                    int total_epochs) {
  auto error = [](absl::string_view field, absl::string_view what, auto value) {
    return absl::InvalidArgumentError(
        absl::StrCat("training.schedule.", field, ": ", what, ", got ", value));
  };
  if (s.warmup_epochs() < 0 || s.warmup_epochs() >= total_epochs) {
    return error("warmup_epochs", absl::StrCat("must be in [0, epochs=", total_epochs, ")"),
                 s.warmup_epochs());
  }
  if (s.warmup_start_lr() < 0 || s.warmup_start_lr() > peak_lr) {
    return error("warmup_start_lr", absl::StrCat("must be in [0, peak_lr=", peak_lr, "]"),
                 s.warmup_start_lr());
  }
  switch (s.decay_case()) {
    case proto::ScheduleConfig::kStep: {
      int previous = 0;
      for (int m : s.step().milestones()) {
        if (m <= previous || m > total_epochs) {
          return error("step.milestones",
                       absl::StrCat("must be increasing and in (0, epochs=", total_epochs, "]"), m);
        }
        previous = m;
      }
      if (!(s.step().gamma() > 0 && s.step().gamma() <= 1)) {
        return error("step.gamma", "must be in (0, 1]", s.step().gamma());
      }
      return absl::OkStatus();
    }
    case proto::ScheduleConfig::kCosine:
      if (s.cosine().min_lr() < 0 || s.cosine().min_lr() > peak_lr) {
        return error("cosine.min_lr", absl::StrCat("must be in [0, peak_lr=", peak_lr, "]"),
                     s.cosine().min_lr());
      }
      return absl::OkStatus();
    case proto::ScheduleConfig::DECAY_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("training.schedule.decay: one of step, cosine must be set");
}

double LearningRateAt(const proto::ScheduleConfig& s, double peak_lr, int total_epochs,
                      double epoch) {
  const double t = s.per_step() ? epoch : std::floor(epoch);
  const double warmup = s.warmup_epochs();
  if (t < warmup) {
    return s.warmup_start_lr() + (peak_lr - s.warmup_start_lr()) * (t / warmup);
  }
  if (s.has_step()) {
    double lr = peak_lr;
    for (int m : s.step().milestones()) {
      if (t >= m) lr *= s.step().gamma();
    }
    return lr;
  }
  const double min_lr = s.cosine().min_lr();
  const double span = total_epochs - warmup;
  const double progress = span > 0 ? std::min(1.0, (t - warmup) / span) : 1.0;
  return min_lr + (peak_lr - min_lr) * 0.5 * (1.0 + std::cos(M_PI * progress));
}

}  // namespace robustness
