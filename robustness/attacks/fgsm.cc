#include "robustness/attacks/fgsm.h"

#include <string>
#include <utility>

#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "robustness/attacks/internal/eval_mode_guard.h"
#include "robustness/attacks/internal/gradient_step.h"
#include "robustness/attacks/internal/input_contract.h"
#include "robustness/attacks/internal/target_selection.h"
#include "robustness/attacks/radius.h"
#include "robustness/base/status_macros.h"

namespace robustness {

absl::Status ValidateFgsmConfig(const proto::FgsmConfig& config, absl::string_view path) {
  RETURN_IF_ERROR(attacks_internal::ValidateNorm(config.norm(), absl::StrCat(path, ".norm")));
  return attacks_internal::ValidateTargetMode(config.target_mode(),
                                              absl::StrCat(path, ".target_mode"));
}

Fgsm::Fgsm(std::string name, const proto::FgsmConfig& config, double epsilon)
    : name_(std::move(name)), target_mode_(config.target_mode()), epsilon_(epsilon) {
  const absl::Status valid = ValidateFgsmConfig(config, "fgsm");
  CHECK(valid.ok()) << valid;
  const absl::Status eps_valid = ValidatePixelRadius(epsilon, "epsilon");
  CHECK(eps_valid.ok()) << eps_valid;
  norm_ = attacks_internal::ToLpNorm(config.norm());
}

torch::Tensor Fgsm::Perturb(ImageClassifierImpl& model, const torch::Tensor& images,
                            const torch::Tensor& labels, torch::Generator& gen) const {
  attacks_internal::CheckAttackInputs(images, labels);
  attacks_internal::EvalModeGuard eval_mode(model);
  const torch::Tensor x = images.detach();
  const torch::Tensor targets =
      attacks_internal::SelectTargets(target_mode_, model, x, labels, gen);
  const torch::Tensor gradient =
      attacks_internal::InputGradient(model, x, targets, attacks_internal::IsTargeted(target_mode_))
          .gradient;
  return attacks_internal::AscentStep(norm_, x, gradient, epsilon_, x, epsilon_);
}

}  // namespace robustness
