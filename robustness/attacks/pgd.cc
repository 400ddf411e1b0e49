#include "robustness/attacks/pgd.h"

#include <cmath>
#include <string>
#include <utility>

#include <torch/types.h>
#include <torch/utils.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "glog/logging.h"
#include "robustness/attacks/internal/eval_mode_guard.h"
#include "robustness/attacks/internal/gradient_step.h"
#include "robustness/attacks/internal/input_contract.h"
#include "robustness/attacks/internal/target_selection.h"
#include "robustness/attacks/radius.h"
#include "robustness/base/status_macros.h"

namespace robustness {
namespace {

absl::Status Invalid(absl::string_view path, absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ".", field, ": ", what));
}

// Bool [N]: whether the model's prediction on x counts as a successful attack.
torch::Tensor Fooled(ImageClassifierImpl& model, const torch::Tensor& x,
                     const torch::Tensor& labels, const torch::Tensor& targets, bool targeted) {
  torch::NoGradGuard no_grad;
  const torch::Tensor predicted = model.forward(x).argmax(/*dim=*/1);
  return targeted ? predicted.eq(targets) : predicted.ne(labels);
}

}  // namespace

absl::Status ValidatePgdConfig(const proto::PgdConfig& config, absl::string_view path) {
  RETURN_IF_ERROR(attacks_internal::ValidateNorm(config.norm(), absl::StrCat(path, ".norm")));
  if (!config.has_num_steps()) return Invalid(path, "num_steps", "must be set");
  if (config.num_steps() < 1) {
    return Invalid(path, "num_steps", absl::StrCat("must be >= 1, got ", config.num_steps()));
  }
  switch (config.step_size_case()) {
    case proto::PgdConfig::kStepRelativeToEpsilon: {
      const double step = config.step_relative_to_epsilon();
      if (!(step > 0.0 && std::isfinite(step))) {
        return Invalid(path, "step_relative_to_epsilon",
                       absl::StrFormat("must be finite and > 0, got %g", step));
      }
      break;
    }
    case proto::PgdConfig::kStepAbsolute:
      RETURN_IF_ERROR(ValidateRadius(config.step_absolute(), absl::StrCat(path, ".step_absolute")));
      break;
    case proto::PgdConfig::STEP_SIZE_NOT_SET:
      return Invalid(path, "step_size",
                     "must be set (step_relative_to_epsilon or step_absolute)");
  }
  if (!config.has_random_start()) return Invalid(path, "random_start", "must be set");
  if (!config.has_restarts()) return Invalid(path, "restarts", "must be set");
  if (config.restarts() < 1) {
    return Invalid(path, "restarts", absl::StrCat("must be >= 1, got ", config.restarts()));
  }
  if (!config.random_start() && config.restarts() != 1) {
    return Invalid(path, "restarts",
                   absl::StrCat("must be 1 when random_start is false (every restart would "
                                "repeat the same run), got ",
                                config.restarts()));
  }
  return attacks_internal::ValidateTargetMode(config.target_mode(),
                                              absl::StrCat(path, ".target_mode"));
}

Pgd::Pgd(std::string name, const proto::PgdConfig& config, double epsilon)
    : name_(std::move(name)),
      num_steps_(config.num_steps()),
      random_start_(config.random_start()),
      restarts_(config.restarts()),
      target_mode_(config.target_mode()),
      epsilon_(epsilon) {
  const absl::Status valid = ValidatePgdConfig(config, "pgd");
  CHECK(valid.ok()) << valid;
  const absl::Status eps_valid = ValidatePixelRadius(epsilon, "epsilon");
  CHECK(eps_valid.ok()) << eps_valid;
  norm_ = attacks_internal::ToLpNorm(config.norm());
  step_ = config.has_step_absolute() ? RadiusToPixels(config.step_absolute())
                                     : config.step_relative_to_epsilon() * epsilon;
}

torch::Tensor Pgd::Perturb(ImageClassifierImpl& model, const torch::Tensor& images,
                           const torch::Tensor& labels, torch::Generator& gen) const {
  using attacks_internal::AscentStep;
  using attacks_internal::InputGradient;
  attacks_internal::CheckAttackInputs(images, labels);
  attacks_internal::EvalModeGuard eval_mode(model);
  const torch::Tensor clean = images.detach();
  const bool targeted = attacks_internal::IsTargeted(target_mode_);
  const torch::Tensor targets =
      attacks_internal::SelectTargets(target_mode_, model, clean, labels, gen);

  torch::Tensor best;  // Per image: the first fooling restart's output, else the latest.
  torch::Tensor done;  // Bool [N]: some restart already fooled the model.
  for (int restart = 0; restart < restarts_; ++restart) {
    torch::Tensor x = clean;
    if (random_start_) {
      x = Project(norm_, clean + RandomInBall(norm_, clean, epsilon_, gen), clean, epsilon_);
    }
    for (int step = 0; step < num_steps_; ++step) {
      const torch::Tensor gradient = InputGradient(model, x, targets, targeted).gradient;
      x = AscentStep(norm_, x, gradient, step_, clean, epsilon_);
    }
    if (restarts_ == 1) return x;
    const torch::Tensor fooled = Fooled(model, x, labels, targets, targeted);
    if (restart == 0) {
      best = x;
      done = fooled;
    } else {
      best = torch::where(done.view({-1, 1, 1, 1}), best, x);
      done = done.logical_or(fooled);
    }
    if (done.all().item<bool>()) break;
  }
  return best;
}

}  // namespace robustness
