// The loss, its input gradient and the steepest-ascent step shared by FGSM and PGD
// (PAPER.md 3.6-3.7: untargeted cross-entropy on the true label, sign-gradient ascent, projection
// onto the eps-ball ∩ valid image range). One implementation, so PGD-1 with step eps and no
// random start is FGSM by construction.
#ifndef ROBUSTNESS_ATTACKS_INTERNAL_GRADIENT_STEP_H_
#define ROBUSTNESS_ATTACKS_INTERNAL_GRADIENT_STEP_H_

#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "robustness/models/image_classifier.h"
#include "robustness/proto/attack.pb.h"
#include "robustness/tensors/projection.h"

namespace robustness {
namespace attacks_internal {

// OK for LINF and L2; otherwise InvalidArgument "<field>: must be LINF or L2, got <value>"
// (NORM_UNSPECIFIED when unset, the number for values this build does not know).
absl::Status ValidateNorm(proto::Norm norm, absl::string_view field);

// LINF -> kLinf, L2 -> kL2; CHECK-fails on NORM_UNSPECIFIED (validated configs never carry it).
LpNorm ToLpNorm(proto::Norm norm);

struct ObjectiveGradient {
  torch::Tensor loss;      // [N] float: per-image CE(model(x), classes), no autograd history.
  torch::Tensor gradient;  // Like x: d objective / d x.
};

// Evaluates the attack objective and its gradient w.r.t. x only (torch::autograd::grad, so no
// parameter's .grad is written). Objective = sum_i CE(model(x_i), classes_i) when untargeted
// (ascend the true-label loss), and its negation when `targeted` (ascending it descends the
// target's loss). The sum, not the mean, keeps each image's gradient independent of N.
// x: float [N, C, H, W]; classes: int64 [N]. Runs with grad mode on even inside a caller's
// NoGradGuard. Does not change the model's training flag (the caller holds an EvalModeGuard).
ObjectiveGradient InputGradient(ImageClassifierImpl& model, const torch::Tensor& x,
                                const torch::Tensor& classes, bool targeted);

// The steepest-ascent direction of unit norm: sign(g) for kLinf, g / ||g||_2 per image for kL2
// (0 where the gradient is 0).
torch::Tensor AscentDirection(LpNorm norm, const torch::Tensor& gradient);

// One projected ascent step: Project(norm, x + step * AscentDirection(norm, gradient), images,
// eps). images: the clean images (ball centres) in [0, 1]; step, eps in pixel units.
torch::Tensor AscentStep(LpNorm norm, const torch::Tensor& x, const torch::Tensor& gradient,
                         double step, const torch::Tensor& images, double eps);

}  // namespace attacks_internal
}  // namespace robustness

#endif  // ROBUSTNESS_ATTACKS_INTERNAL_GRADIENT_STEP_H_
