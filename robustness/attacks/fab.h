// FAB, the fast adaptive boundary attack (Croce & Hein, ICML 2020), the third stage of
// AutoAttack (PAPER.md 3.8, Tables 1-2: FAB-T), L-inf and L2, with the semantics of
// fra31/auto-attack at a392200 (research/autoattack.md section 3; written from that sheet).
//
// One run (FabSingleRun) on images x0 (all classified correctly) with labels y, i = 1 .. N:
//   1. f = z_t - z_y at x_i and w = grad_x f (FAB-T, target t), or for untargeted FAB the class
//      k != y minimising |z_k - z_y| / (||grad (z_k - z_y)||_q + 1e-12), q the dual norm (L1 for
//      L-inf, L2 for L2), from K backward passes. Hyperplane H = {u : <w, u> = <w, x_i> - f}.
//   2. d1 = P(x_i) - x_i, d2 = P(x0) - x0, P the smallest-||.||_p projection onto H ∩ [0, 1]^D
//      (FabProjection below).
//   3. a_j = max(||d_j||_p, 1e-8), alpha = min(max(a1 / (a1 + a2), 0), alpha_max).
//   4. x_{i+1} = clip((1 - alpha)(x_i + eta d1) + alpha (x0 + eta d2), 0, 1).
//   5. A forward pass: where argmax z(x_{i+1}) != y, rho = ||x_{i+1} - x0||_p; if rho < best,
//      best = rho and adv = x_{i+1}; every such image steps back, x_{i+1} = x0 + beta (x_{i+1} - x0).
// The start is x0, or for restarts after the first x0 + (eps / 2) t / ||t||_p clipped to [0, 1]
// (t ~ U[-1, 1]^D for L-inf, N(0, I) for L2). epsilon enters only there and in the acceptance:
// the iterates are not confined to the epsilon ball.
//
// Perturb as the reference's perturb: a clean forward; FAB-T runs targets r = 2 ..
// num_target_classes + 1 (the r-th largest clean logit) times restarts, untargeted FAB the
// restarts, each on the images not yet fooled, from their clean images. An image is fooled iff a
// fresh forward pass on the run's output misclassifies it AND its ||adv - x||_p <= epsilon (the
// comparison in float32, as the reference's). Fooled images return that output, the others their
// clean image. Standard AutoAttack: FAB-T, 9 targets, 1 restart (no random start: deterministic),
// 100 iterations, alpha_max 0.1, eta 1.05, beta 0.9.
//
// Deliberate differences, none of which changes which images are fooled (research/autoattack.md
// section 7, for models that treat images independently):
//   * An image stops iterating once best <= epsilon (stop_when_accepted, the default): it will be
//     accepted whatever comes later, but its returned point is then the first accepted one, not
//     the smallest the reference would reach in the remaining iterations.
//   * The clean logits are computed once and reused for the target ranking and the clean
//     prediction (the reference runs three clean forward passes per target).
//   * Targets stop at rank K (every wrong class) instead of the reference's crash when
//     num_target_classes + 1 > K.
//   * The projection solves for its multiplier by locating the segment of a sorted cumulative
//     sum directly, where the reference bisects over it; same multiplier up to float rounding.
//     Coordinates with |w| <= 1e-8 (L2) or w == 0 (L-inf) never move, as in the reference; for
//     L2 they also leave the multiplier's sums (the reference adds their w^2 < 1e-16).
//   * Random starts are drawn from `gen` on the images' device; the reference draws on the CPU.
#ifndef ROBUSTNESS_ATTACKS_FAB_H_
#define ROBUSTNESS_ATTACKS_FAB_H_

#include <cstdint>
#include <string>

#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "robustness/attacks/attack.h"
#include "robustness/models/image_classifier.h"
#include "robustness/proto/attack.pb.h"
#include "robustness/tensors/projection.h"

namespace robustness {

// OK when every field is set: norm LINF or L2; num_iterations, restarts >= 1; num_target_classes
// >= 1 when targeted and 0 otherwise; alpha_max in [0, 1]; eta >= 1; beta in (0, 1].
// InvalidArgument naming `path` + field and the value otherwise.
absl::Status ValidateFabConfig(const proto::FabConfig& config, absl::string_view path);

struct FabOptions {
  LpNorm norm = LpNorm::kLinf;
  bool targeted = true;
  double epsilon = 0.0;  // Pixel units, in (0, 1].
  int num_iterations = 100;
  int restarts = 1;
  int num_target_classes = 9;  // Targeted only.
  double alpha_max = 0.1;
  double eta = 1.05;
  double beta = 0.9;
  bool stop_when_accepted = true;  // See the differences above.
};

// The displacement d (float [B, D]) of each row t (float [B, D], in [0, 1]) to the point of
// {u : <w, u> = b} ∩ [0, 1]^D with the smallest ||u - t||_p (w float [B, D], b float [B]). Where
// the box cannot reach the hyperplane, the box corner that moves <w, u> furthest toward b.
// L-inf: every coordinate moves by one common lambda toward the bound that moves <w, u> toward b,
// capped at its distance to that bound; L2: d_i = clip(-lambda w_i, -t_i, 1 - t_i).
torch::Tensor FabProjection(LpNorm norm, const torch::Tensor& t, const torch::Tensor& w,
                            const torch::Tensor& b);

struct FabRunResult {
  torch::Tensor best_norm;  // float [N]: the smallest ||adv - x0||_p found, 1e10 if none.
  torch::Tensor x_adv;      // [N, C, H, W]: that adversarial point, else the clean image.
  int64_t forward_passes = 0;   // Images x forward passes.
  int64_t backward_passes = 0;  // Images x backward passes (K per iteration when untargeted).
};

// One run (see the top of the file) on x0 (float [N, C, H, W] in [0, 1], each classified
// correctly) with labels y (int64 [N]); targets (int64 [N]) when options.targeted, else
// undefined. A random start draws one tensor of x0's shape from `gen`. Runs the model as it is
// (the caller holds an EvalModeGuard).
FabRunResult FabSingleRun(ImageClassifierImpl& model, const torch::Tensor& x0,
                          const torch::Tensor& y, const torch::Tensor& targets,
                          const FabOptions& options, bool random_start, torch::Generator& gen);

class Fab : public Attack {
 public:
  // Preconditions (CHECKed): ValidateFabConfig OK and 0 < epsilon <= 1. CreateAttack reports
  // both as a Status instead.
  Fab(std::string name, const proto::FabConfig& config, double epsilon);
  Fab(std::string name, const FabOptions& options);

  std::string name() const override { return name_; }
  const FabOptions& options() const { return options_; }

  // See Attack::Perturb and the top of the file. Cost: one clean forward, then per target (or
  // restart) and image still robust up to num_iterations x (forward + backward + forward), the
  // backward K times for untargeted FAB, and one forward to decide.
  torch::Tensor Perturb(ImageClassifierImpl& model, const torch::Tensor& images,
                        const torch::Tensor& labels, torch::Generator& gen) const override;

 private:
  std::string name_;
  FabOptions options_;
};

}  // namespace robustness

#endif  // ROBUSTNESS_ATTACKS_FAB_H_
