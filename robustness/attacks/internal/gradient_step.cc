#include "robustness/attacks/internal/gradient_step.h"

#include <string>

#include <torch/autograd.h>
#include <torch/nn/functional/loss.h>
#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace robustness {
namespace attacks_internal {

absl::Status ValidateNorm(proto::Norm norm, absl::string_view field) {
  if (norm == proto::LINF || norm == proto::L2) return absl::OkStatus();
  const std::string value =
      proto::Norm_IsValid(norm) ? proto::Norm_Name(norm) : absl::StrCat(static_cast<int>(norm));
  return absl::InvalidArgumentError(absl::StrCat(field, ": must be LINF or L2, got ", value));
}

LpNorm ToLpNorm(proto::Norm norm) {
  switch (norm) {
    case proto::LINF:
      return LpNorm::kLinf;
    case proto::L2:
      return LpNorm::kL2;
    default:
      break;
  }
  LOG(FATAL) << "ToLpNorm: unsupported norm " << proto::Norm_Name(norm);
}

ObjectiveGradient InputGradient(ImageClassifierImpl& model, const torch::Tensor& x,
                                const torch::Tensor& classes, bool targeted) {
  torch::AutoGradMode enable_grad(true);
  torch::Tensor input = x.detach().requires_grad_(true);
  torch::Tensor logits = model.forward(input);
  namespace F = torch::nn::functional;
  torch::Tensor loss =
      F::cross_entropy(logits, classes, F::CrossEntropyFuncOptions().reduction(torch::kNone));
  torch::Tensor objective = targeted ? -loss.sum() : loss.sum();
  // grad() with explicit inputs: the engine computes only what is needed for `input` and never
  // accumulates into parameters' .grad (unlike backward()).
  torch::Tensor gradient = torch::autograd::grad({objective}, {input})[0];
  return {loss.detach(), gradient};
}

torch::Tensor AscentDirection(LpNorm norm, const torch::Tensor& gradient) {
  switch (norm) {
    case LpNorm::kLinf:
      return gradient.sign();
    case LpNorm::kL2:
      return NormalizePerImageL2(gradient);
  }
  LOG(FATAL) << "unknown LpNorm " << static_cast<int>(norm);
}

torch::Tensor AscentStep(LpNorm norm, const torch::Tensor& x, const torch::Tensor& gradient,
                         double step, const torch::Tensor& images, double eps) {
  return Project(norm, x + step * AscentDirection(norm, gradient), images, eps);
}

}  // namespace attacks_internal
}  // namespace robustness
