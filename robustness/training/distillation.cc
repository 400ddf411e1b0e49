#include "robustness/training/distillation.h"

#include <cmath>

#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/loss.h>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace robustness {

torch::Tensor SoftDistillationLoss(const torch::Tensor& student_logits,
                                   const torch::Tensor& teacher_logits, double tau,
                                   proto::DistillationConfig::KlReduction reduction) {
  CHECK_EQ(student_logits.dim(), 2);
  CHECK(student_logits.sizes() == teacher_logits.sizes())
      << student_logits.sizes() << " vs " << teacher_logits.sizes();
  CHECK_GT(tau, 0.0);
  const torch::Tensor log_p = torch::log_softmax(student_logits / tau, 1);
  const torch::Tensor log_q = torch::log_softmax(teacher_logits.detach() / tau, 1);
  // sum q (log q - log p), as F.kl_div(log_p, log_q, reduction='sum', log_target=True).
  const torch::Tensor kl_sum = (log_q.exp() * (log_q - log_p)).sum();
  const double n = static_cast<double>(student_logits.size(0));
  const double k = static_cast<double>(student_logits.size(1));
  switch (reduction) {
    case proto::DistillationConfig::BATCH_MEAN: return kl_sum * (tau * tau) / n;
    case proto::DistillationConfig::DEIT_ELEMENT_MEAN: return kl_sum * (tau * tau) / (n * k);
    default: break;
  }
  LOG(FATAL) << "unvalidated kl_reduction " << reduction;
}

torch::Tensor HardDistillationLoss(const torch::Tensor& student_logits,
                                   const torch::Tensor& teacher_logits) {
  CHECK_EQ(student_logits.dim(), 2);
  CHECK(student_logits.sizes() == teacher_logits.sizes());
  return torch::nn::functional::cross_entropy(student_logits, teacher_logits.detach().argmax(1));
}

torch::Tensor DistillationTerm(const proto::DistillationConfig& config,
                               const torch::Tensor& student_logits,
                               const torch::Tensor& teacher_logits) {
  if (config.kind() == proto::DistillationConfig::HARD) {
    return HardDistillationLoss(student_logits, teacher_logits);
  }
  CHECK_EQ(config.kind(), proto::DistillationConfig::SOFT) << "unvalidated kind";
  return SoftDistillationLoss(student_logits, teacher_logits, config.tau(), config.kl_reduction());
}

absl::Status ValidateDistillationConfig(const proto::DistillationConfig& c, int student_classes) {
  auto error = [](const std::string& message) {
    return absl::InvalidArgumentError(absl::StrCat("distillation.", message));
  };
  int teacher_classes = 0;
  switch (c.teacher_case()) {
    case proto::DistillationConfig::kStored:
      if (c.stored().has_distillation()) {
        return error("stored.distillation: a teacher must itself be trained without "
                     "distillation (no_distillation {})");
      }
      teacher_classes = c.stored().model().num_classes();
      break;
    case proto::DistillationConfig::kImported:
      if (c.imported().weights().empty()) return error("imported.weights: must name a file");
      teacher_classes = c.imported().model().num_classes();
      break;
    default: return error("teacher: set one of stored { ... }, imported { ... }");
  }
  if (c.kind() != proto::DistillationConfig::SOFT && c.kind() != proto::DistillationConfig::HARD) {
    return error(absl::StrCat("kind: must be SOFT or HARD, got ", static_cast<int>(c.kind())));
  }
  if (!(c.alpha() >= 0.0 && c.alpha() <= 1.0)) {
    return error(absl::StrCat("alpha: must be in [0, 1], got ", c.alpha()));
  }
  if (!(c.tau() > 0.0) || !std::isfinite(c.tau())) {
    return error(absl::StrCat("tau: must be > 0, got ", c.tau()));
  }
  const auto reduction = c.kl_reduction();
  if (reduction != proto::DistillationConfig::BATCH_MEAN &&
      reduction != proto::DistillationConfig::DEIT_ELEMENT_MEAN) {
    return error(absl::StrCat("kl_reduction: must be BATCH_MEAN or DEIT_ELEMENT_MEAN, got ",
                              static_cast<int>(reduction)));
  }
  if (c.kind() == proto::DistillationConfig::HARD &&
      reduction != proto::DistillationConfig::BATCH_MEAN) {
    return error("kl_reduction: HARD distillation has no KL; write BATCH_MEAN");
  }
  if (student_classes > 0 && teacher_classes != student_classes) {
    return error(absl::StrCat("teacher: the teacher has ", teacher_classes,
                              " classes, the student ", student_classes,
                              "; distillation needs the same classes"));
  }
  return absl::OkStatus();
}

}  // namespace robustness
