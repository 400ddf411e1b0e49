#include "robustness/attacks/training_pgd.h"

#include <cmath>

#include <c10/util/Exception.h>
#include <torch/autograd.h>
#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/loss.h>
#include <torch/types.h>
#include <torch/utils.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "glog/logging.h"
#include "robustness/attacks/internal/eval_mode_guard.h"
#include "robustness/attacks/radius.h"
#include "robustness/base/status_macros.h"

namespace robustness {
namespace {

namespace F = torch::nn::functional;

// The summed per-image cross-entropy of the training targets at `logits`.
torch::Tensor TargetLoss(const torch::Tensor& logits, const torch::Tensor& targets) {
  if (targets.dim() == 1) {
    return F::cross_entropy(logits, targets, F::CrossEntropyFuncOptions().reduction(torch::kSum));
  }
  return -(targets * torch::log_softmax(logits, 1)).sum();
}

}  // namespace

absl::Status ValidateAdversarialTraining(const proto::AdversarialTraining& c,
                                         absl::string_view path) {
  auto invalid = [&](absl::string_view field, absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat(path, ".", field, ": ", what));
  };
  if (!c.has_norm() || c.norm() != proto::LINF) {
    return invalid("norm", absl::StrCat("must be LINF (the paper's; the only one built), got ",
                                        proto::Norm_Name(c.norm())));
  }
  if (!c.has_epsilon()) return invalid("epsilon", "must be set (paper: over_255: 4)");
  RETURN_IF_ERROR(ValidateRadius(c.epsilon(), absl::StrCat(path, ".epsilon")));
  if (!c.has_step_size()) return invalid("step_size", "must be set (paper: over_255: 4)");
  RETURN_IF_ERROR(ValidateRadius(c.step_size(), absl::StrCat(path, ".step_size")));
  if (!c.has_num_steps()) return invalid("num_steps", "must be set (paper: 1)");
  if (c.num_steps() < 1) {
    return invalid("num_steps", absl::StrCat("must be >= 1, got ", c.num_steps()));
  }
  switch (c.start_case()) {
    case proto::AdversarialTraining::kPerImageUniform:
      break;
    case proto::AdversarialTraining::kPerBatchCoin:
      if (!c.per_batch_coin().has_clean_below()) {
        return invalid("per_batch_coin.clean_below",
                       "must be set (paper: 0 for DeiT, 0.2 for ResNet)");
      }
      if (!std::isfinite(c.per_batch_coin().clean_below())) {
        return invalid("per_batch_coin.clean_below",
                       absl::StrFormat("must be finite, got %g", c.per_batch_coin().clean_below()));
      }
      break;
    case proto::AdversarialTraining::START_NOT_SET:
      return invalid("start", "must be set: per_image_uniform {} or per_batch_coin { clean_below }");
  }
  return absl::OkStatus();
}

torch::Tensor MakeTrainingAdversarialExamples(ImageClassifierImpl& model,
                                              const torch::Tensor& images,
                                              const torch::Tensor& targets,
                                              const proto::AdversarialTraining& config,
                                              torch::Generator& gen) {
  const absl::Status valid = ValidateAdversarialTraining(config, "adversarial");
  CHECK(valid.ok()) << valid;
  TORCH_CHECK(images.dim() == 4 && targets.size(0) == images.size(0),
              "training PGD: images [N, C, H, W] and targets [N] or [N, K]");
  attacks_internal::EvalModeGuard eval_mode(model);
  const double eps = RadiusToPixels(config.epsilon());
  const double step = RadiusToPixels(config.step_size());
  const torch::Tensor x = images.detach();
  const auto cpu = x.options().device(torch::kCPU);
  bool from_noise = true;
  if (config.has_per_batch_coin()) {
    from_noise =
        torch::randn({1}, gen, cpu).item<double>() > config.per_batch_coin().clean_below();
  }
  torch::Tensor x_adv = x.clone();
  if (from_noise) {
    const torch::Tensor noise = (2 * torch::rand(x.sizes(), gen, cpu) - 1).to(x.device());
    x_adv = (x + noise * eps).clamp(0.0, 1.0);
  }
  for (int k = 0; k < config.num_steps(); ++k) {
    torch::AutoGradMode enable_grad(true);
    torch::Tensor input = x_adv.detach().requires_grad_(true);
    const torch::Tensor loss = TargetLoss(model.forward(input), targets);
    const torch::Tensor grad = torch::autograd::grad({loss}, {input})[0];
    torch::NoGradGuard no_grad;
    x_adv = torch::min(torch::max(x_adv + step * grad.sign(), x - eps), x + eps).clamp(0.0, 1.0);
  }
  return x_adv.detach();
}

}  // namespace robustness
