// Auto-PGD (Croce & Hein, ICML 2020), the first two stages of AutoAttack (PAPER.md 3.8, Tables
// 1-2: APGD-CE, then APGD-T), L-inf and L2, with the semantics of fra31/auto-attack at a392200
// (research/autoattack.md section 2; written from that sheet, constant for constant).
//
// One run (ApgdSingleRun) on images x with labels y, radius eps, N = num_iterations:
//   start   x0 = clip(x + eps t / (||t||_p + 1e-12), 0, 1), t ~ U[-1, 1)^d (L-inf; the largest
//           coordinate is +-eps) or N(0, I) (L2); one forward/backward at x0.
//   step k  u = P(x_k + eta s_k), x_{k+1} = P(x_k + a (u - x_k) + (1 - a)(x_k - x_{k-1})),
//           s_k = sign(g_k) or g_k / (||g_k||_2 + 1e-12), a = 1 at k = 0 else 0.75, eta = 2 eps
//           per image; P: clamp to the L-inf ball then [0, 1], or for L2 a radial shrink to eps
//           then a clamp to [0, 1] (the reference's, not the exact projection onto ball ∩ box).
//   best    loss_best / x_best / g_best follow strict loss increases; a misclassified iterate
//           (argmax != y) fools the image, the start included.
//   checks  after steps 22, 41, 57, 70, 80, 87, 93, 99 (N = 100; windows h = 22, 19, ..., 6 from
//           max(int(0.22 N), 1), max(int(0.06 N), 1), max(int(0.03 N), 1)): an image halves eta
//           and restarts from x_best with g_best when #{loss rose} over the window <= rho h
//           (the first window compares the first loss with 0), or when it was not halved at the
//           previous check and its best loss did not strictly improve since. The momentum
//           reference x_k is not reset.
// Losses: CE, DLR, targeted DLR (proto::ApgdLoss); the gradient is of the summed per-image loss.
// With eot_iterations > 1 the gradient is the mean over that many forward/backward passes and the
// logits and loss come from the last one.
//
// Perturb as the reference's perturb: a clean forward; restarts (CE/DLR) or, for DLR_TARGETED,
// targets r = 2 .. num_target_classes + 1 (the r-th largest clean logit) times restarts, each a
// fresh run on the images not yet fooled, from their clean images. Fooled images return their
// adversarial iterate, the others their clean image.
//
// Deliberate differences, none of which changes which images are fooled (research/autoattack.md
// section 7, for models that treat images independently, e.g. eval-mode BatchNorm or DeiT):
//   * An image stops iterating once fooled (stop_when_fooled, the default; the reference runs all
//     N steps on every image). Its returned iterate is then the first misclassified one, not the
//     last.
//   * The clean logits are computed once and reused for the target ranking (the reference
//     re-runs a clean forward for every target).
//   * Targets: the reference crashes when num_target_classes + 1 > K; here the targets stop at
//     rank K (all wrong classes), and DLR_TARGETED needs K >= 4, DLR K >= 3 (TORCH_CHECK, a
//     clear error, since the loss is undefined below).
//   * Random starts are drawn from `gen` on the images' device; the reference draws on the CPU.
//     On CPU, a generator seeded as torch.manual_seed(seed) gives the reference's starts.
#ifndef ROBUSTNESS_ATTACKS_APGD_H_
#define ROBUSTNESS_ATTACKS_APGD_H_

#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "robustness/attacks/attack.h"
#include "robustness/models/image_classifier.h"
#include "robustness/proto/attack.pb.h"
#include "robustness/tensors/projection.h"

namespace robustness {

// OK when every field is set: norm LINF or L2; loss CE, DLR or DLR_TARGETED; num_iterations,
// restarts, eot_iterations >= 1; rho in (0, 1]; num_target_classes >= 1 for DLR_TARGETED and 0
// otherwise. InvalidArgument naming `path` + field and the value otherwise.
absl::Status ValidateApgdConfig(const proto::ApgdConfig& config, absl::string_view path);

struct ApgdOptions {
  LpNorm norm = LpNorm::kLinf;
  proto::ApgdLoss loss = proto::CE;
  double epsilon = 0.0;  // Pixel units, in (0, 1].
  int num_iterations = 100;
  int restarts = 1;
  int num_target_classes = 9;  // DLR_TARGETED only.
  double rho = 0.75;
  int eot_iterations = 1;
  bool stop_when_fooled = true;  // See the differences above.
};

// The 1-based steps after which the step-size check runs, for `num_iterations` (>= 1) steps.
// {22, 41, 57, 70, 80, 87, 93, 99} for 100.
std::vector<int> ApgdCheckpointSteps(int num_iterations);

// Per-image losses [N] from logits [N, K] (K >= 3, resp. >= 4), labels and targets int64 [N].
torch::Tensor DlrLoss(const torch::Tensor& logits, const torch::Tensor& labels);
torch::Tensor TargetedDlrLoss(const torch::Tensor& logits, const torch::Tensor& labels,
                              const torch::Tensor& targets);

struct ApgdRunResult {
  torch::Tensor fooled;     // bool [N]: the start or some iterate was misclassified.
  torch::Tensor x_adv;      // [N, C, H, W]: the misclassified iterate where fooled, else x_best.
  torch::Tensor loss_best;  // [N]: the best loss reached (at the fooling step for fooled images).
  // float [num_iterations, N]: the step size each image used at each step (0 after it stopped).
  torch::Tensor step_sizes;
  int64_t forward_passes = 0;      // Images x forward passes (each with a backward pass).
  int64_t zero_gradient_images = 0;  // DLR losses: images whose first gradient is all zero.
                                     // Perturb(WithWarnings) reports them; this run does not log.
};

// One run (see the top of the file) on x (float [N, C, H, W] in [0, 1]) with labels y (int64
// [N]); targets (int64 [N]) only for DLR_TARGETED, else undefined. Draws one tensor of x's shape
// from `gen`. Runs the model as it is (the caller holds an EvalModeGuard).
ApgdRunResult ApgdSingleRun(ImageClassifierImpl& model, const torch::Tensor& x,
                            const torch::Tensor& y, const torch::Tensor& targets,
                            const ApgdOptions& options, torch::Generator& gen);

class Apgd : public Attack {
 public:
  // Preconditions (CHECKed): ValidateApgdConfig OK and 0 < epsilon <= 1. CreateAttack reports
  // both as a Status instead.
  Apgd(std::string name, const proto::ApgdConfig& config, double epsilon);
  Apgd(std::string name, const ApgdOptions& options);

  std::string name() const override { return name_; }
  const ApgdOptions& options() const { return options_; }

  // See Attack::Perturb and the top of the file. Cost: one clean forward, then per restart (and
  // target) up to num_iterations + 1 forward-backward passes per image still robust.
  torch::Tensor Perturb(ImageClassifierImpl& model, const torch::Tensor& images,
                        const torch::Tensor& labels, torch::Generator& gen) const override;
  // Warns (one message) when a DLR loss met images whose first gradient is all zero.
  torch::Tensor PerturbWithWarnings(ImageClassifierImpl& model, const torch::Tensor& images,
                                    const torch::Tensor& labels, torch::Generator& gen,
                                    std::vector<std::string>* warnings) const override;

 private:
  std::string name_;
  ApgdOptions options_;
};

}  // namespace robustness

#endif  // ROBUSTNESS_ATTACKS_APGD_H_
