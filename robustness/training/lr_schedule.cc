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
  if (s.semantics() == proto::ScheduleConfig::SEMANTICS_UNSPECIFIED) {
    return error("semantics", "must be PROGRESS, TIMM or TIMM_DEIT_LOOP", "SEMANTICS_UNSPECIFIED");
  }
  if (s.semantics() != proto::ScheduleConfig::PROGRESS && s.per_step()) {
    return error("per_step",
                 absl::StrCat("must be false with semantics ",
                              proto::ScheduleConfig::Semantics_Name(s.semantics()),
                              " (timm's schedulers change the rate once per epoch)"),
                 "true");
  }
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
      if (s.cosine().cooldown_epochs() < 0 ||
          s.cosine().cooldown_epochs() >= total_epochs - s.warmup_epochs()) {
        return error("cosine.cooldown_epochs",
                     absl::StrCat("must be in [0, epochs - warmup_epochs = ",
                                  total_epochs - s.warmup_epochs(), ")"),
                     s.cosine().cooldown_epochs());
      }
      return absl::OkStatus();
    case proto::ScheduleConfig::DECAY_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("training.schedule.decay: one of step, cosine must be set");
}

namespace {

// peak_lr * gamma^(number of milestones <= t): timm's MultiStep, and ours.
double StepDecayed(const proto::StepDecay& step, double peak_lr, double t) {
  double lr = peak_lr;
  for (int m : step.milestones()) {
    if (t >= m) lr *= step.gamma();
  }
  return lr;
}

// timm 0.3.2's _get_lr(t) for an epoch index t (cosine_lr.py / step_lr.py with t_mul 1,
// cycle_limit 1, no noise).
double TimmLr(const proto::ScheduleConfig& s, double peak_lr, int total_epochs, double t) {
  const double warmup = s.warmup_epochs();
  if (t < warmup) return s.warmup_start_lr() + t * (peak_lr - s.warmup_start_lr()) / warmup;
  if (s.has_step()) return StepDecayed(s.step(), peak_lr, t);
  const double min_lr = s.cosine().min_lr();
  const double period = total_epochs - s.cosine().cooldown_epochs();
  if (t >= period) return min_lr;
  return min_lr + 0.5 * (peak_lr - min_lr) * (1.0 + std::cos(M_PI * t / period));
}

}  // namespace

double LearningRateAt(const proto::ScheduleConfig& s, double peak_lr, int total_epochs,
                      double epoch) {
  if (s.semantics() == proto::ScheduleConfig::TIMM) {
    return TimmLr(s, peak_lr, total_epochs, std::floor(epoch));
  }
  if (s.semantics() == proto::ScheduleConfig::TIMM_DEIT_LOOP) {
    const double e = std::floor(epoch);
    return e < 1 ? (s.warmup_epochs() > 0 ? s.warmup_start_lr()
                                          : TimmLr(s, peak_lr, total_epochs, 0))
                 : TimmLr(s, peak_lr, total_epochs, e - 1);
  }
  const double t = s.per_step() ? epoch : std::floor(epoch);
  const double warmup = s.warmup_epochs();
  if (t < warmup) {
    return s.warmup_start_lr() + (peak_lr - s.warmup_start_lr()) * (t / warmup);
  }
  if (s.has_step()) return StepDecayed(s.step(), peak_lr, t);
  const double min_lr = s.cosine().min_lr();
  const double span = total_epochs - s.cosine().cooldown_epochs() - warmup;
  const double progress = span > 0 ? std::min(1.0, (t - warmup) / span) : 1.0;
  return min_lr + (peak_lr - min_lr) * 0.5 * (1.0 + std::cos(M_PI * progress));
}

}  // namespace robustness
