// AutoAttack's orchestration (Croce & Hein 2020; PAPER.md 3.8, Tables 1-2) with the semantics of
// fra31/auto-attack at a392200 run_standard_evaluation (research/autoattack.md section 1):
//   1. Checks on the first batch, warnings only: outputs that look like probabilities (max <
//      1 + 1e-5, min > -1e-5, every row summing to 1 within 1e-5), and a randomised model (5
//      forward passes without gradients whose correct counts or per-image normalised outputs
//      differ by more than 1e-4).
//   2. A clean pass; misclassified images are never attacked and keep their clean image.
//   3. Each stage in order (none once no image is robust), on the images still robust (ascending index, re-batched), from their
//      CLEAN images; before every batch the generator is re-seeded with `seed` (the reference
//      sets attack.seed before each batch). The only success test is one fresh forward pass on
//      the stage's output: argmax != label. Robust accuracy after each stage is over all N.
//   4. At the end, a warning if Square (a stage named "Square") beat the white-box stages by more
//      than 0.2 points (check_square_sr), and the largest perturbation actually used.
//   Warnings raised by the stages themselves (Attack::PerturbWithWarnings: APGD's zero
//   gradients under a DLR loss, check_zero_gradients) join the report's list, in stage order.
// Stages are any Attacks (apgd.h, fab.h, square.h, ...); auto_attack_version.h lists the
// reference's `standard` and `plus` versions as stage configs.
#ifndef ROBUSTNESS_ATTACKS_AUTO_ATTACK_H_
#define ROBUSTNESS_ATTACKS_AUTO_ATTACK_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "robustness/attacks/attack.h"
#include "robustness/models/image_classifier.h"
#include "robustness/tensors/projection.h"

namespace robustness {

struct AutoAttackStageResult {
  std::string name;
  double robust_accuracy = 0;  // In [0, 1], over all images, after this stage.
  int64_t attacked = 0;        // Images this stage ran on.
  int64_t fooled = 0;          // Of those, the ones it fooled.
  double seconds = 0;
};

struct AutoAttackReport {
  int64_t num_images = 0;
  double clean_accuracy = 0;  // In [0, 1].
  std::vector<AutoAttackStageResult> stages;
  torch::Tensor clean_prediction;  // int64 [N]
  torch::Tensor final_prediction;  // int64 [N]: on x_adv
  // int64 [N]: -1 misclassified clean, k >= 0 the first stage that fooled the image, -2 robust.
  torch::Tensor fooled_by;
  torch::Tensor x_adv;             // [N, C, H, W]: the adversarial image, or the clean one.
  double max_perturbation = 0;     // Largest ||x_adv - x|| in `norm` over all images.
  std::vector<std::string> warnings;
};

// Runs the stages (see above) on images (float [N, C, H, W] in [0, 1]) and labels (int64 [N]) in
// batches of `batch_size` (>= 1). `progress_name` labels one progress line per stage ("" = none).
// `run_checks` false skips checks 1 and 4 (a caller that runs this on parts of a data set runs
// them once itself, ModelOutputWarnings and SquareWarning) and leaves logging the warnings to
// the caller; true logs them. Deterministic given `seed` on CPU.
// NaN clean logits throw (c10::Error naming the images), before any stage runs.
AutoAttackReport RunAutoAttack(ImageClassifierImpl& model, const torch::Tensor& images,
                               const torch::Tensor& labels,
                               const std::vector<const Attack*>& stages, LpNorm norm,
                               uint64_t seed, int64_t batch_size,
                               const std::string& progress_name = "", bool run_checks = true);

// Check 1 on images x (a batch) and labels y: the warnings it raises, if any.
std::vector<std::string> ModelOutputWarnings(ImageClassifierImpl& model, const torch::Tensor& x,
                                             const torch::Tensor& y);

// Check 4 from the stages' names and cumulative robust accuracies (in [0, 1], in stage order):
// a warning when the stage named "Square" is more than 0.002 below the stage before it, else "".
std::string SquareWarning(const std::vector<AutoAttackStageResult>& stages);

}  // namespace robustness

#endif  // ROBUSTNESS_ATTACKS_AUTO_ATTACK_H_
