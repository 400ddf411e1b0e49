// L-inf and L2 perturbation balls in pixel space: projection onto (ball around x) ∩ [0, 1]^d,
// uniform sampling inside a ball, and per-image L2 norms (PAPER.md 3.6-3.7: the PGD projection
// "clip to the eps-ball and to the valid image range", and the random start).
//
// Conventions for every function here:
//   * images and perturbations are floating tensors [N, ...] (usually [N, C, H, W]); "per image"
//     means over all dimensions but the first; the ball is per image, never over the batch;
//   * eps is a radius in [0, 1] pixel units (4/255 in the paper), eps >= 0 (CHECKed);
//   * results are on the inputs' device with the inputs' dtype and carry no autograd history.
#ifndef ROBUSTNESS_TENSORS_PROJECTION_H_
#define ROBUSTNESS_TENSORS_PROJECTION_H_

#include <torch/types.h>

namespace robustness {

// The norm that defines a perturbation ball.
enum class LpNorm {
  kLinf,  // max_i |delta_i| <= eps. The paper's attacks are all L-inf.
  kL2,    // sqrt(sum_i delta_i^2) <= eps, per image.
};

// Per-image L2 norm: [N, ...] -> [N], float like x. PerImageL2Norm(zeros) is 0.
torch::Tensor PerImageL2Norm(const torch::Tensor& x);

// x / ||x||_2 per image, [N, ...] -> [N, ...]. Images with norm 0 stay 0 (no NaN).
torch::Tensor NormalizePerImageL2(const torch::Tensor& x);

// Projects x_adv onto {z : ||z - x||_inf <= eps} ∩ [0, 1]^d, element-wise clamps.
// x_adv, x: same shape [N, ...]; x in [0, 1]. Points already inside are returned unchanged.
torch::Tensor ProjectLinf(const torch::Tensor& x_adv, const torch::Tensor& x, double eps);

// Rescales delta = x_adv - x per image to L2 norm <= eps (directions kept; deltas already inside
// are unchanged), then clamps x + delta to [0, 1]. Clamping only shortens delta element-wise
// (x is in [0, 1]), so the result stays inside the ball: ||result - x||_2 <= eps (up to float
// rounding, ~1e-7 relative).
torch::Tensor ProjectL2(const torch::Tensor& x_adv, const torch::Tensor& x, double eps);

// ProjectLinf or ProjectL2.
torch::Tensor Project(LpNorm norm, const torch::Tensor& x_adv, const torch::Tensor& x, double eps);

// A perturbation drawn uniformly from the eps ball, independently per image, with the shape,
// dtype and device of `like` ([N, ...]; only its metadata is read). Consumes `gen`, which must be
// a generator for like's device.
//   kLinf: each element uniform in [-eps, eps].
//   kL2:   direction = normalised standard Gaussian, radius = eps * u^(1/d), u ~ U[0, 1),
//          d = elements per image (uniform in volume; for large d almost all mass is near eps).
// Add it to x and Project() (or clamp to [0, 1]) to get a random start (PAPER.md 3.7; the paper's
// per-batch coin flip is not reproduced, see robustness/attacks/pgd.h).
torch::Tensor RandomInBall(LpNorm norm, const torch::Tensor& like, double eps,
                           torch::Generator& gen);

}  // namespace robustness

#endif  // ROBUSTNESS_TENSORS_PROJECTION_H_
