// The one attack interface (PAPER.md 3.6-3.8). FGSM (fgsm.h), PGD (pgd.h), APGD (apgd.h), FAB
// (fab.h) and Square (square.h) implement it; auto_attack.h runs a list of them as AutoAttack does;
// attack_factory.h builds one from a proto::AttackConfig. Evaluation and adversarial training
// only ever see an Attack.
//
// Conventions every implementation keeps (the usual ways attack code goes wrong, see
// research/peer_systems.md):
//   * Pixel space: images are float32 [N, C, H, W] in [0, 1] and epsilon is in [0, 1] pixel units
//     (4/255, not 4). Normalisation (x - mean) / std belongs inside the model. Perturb CHECK-fails
//     on images outside [0, 1] or labels that are not int64 [N].
//   * Eval mode: the model runs in eval mode (BatchNorm running statistics, no dropout) for the
//     duration of Perturb, and every module's previous training flag is restored afterwards,
//     also when the caller was training.
//   * Input gradients only: gradients are taken with torch::autograd::grad w.r.t. the images, so
//     parameters' .grad are left exactly as they were (undefined stays undefined). Works inside a
//     caller's torch::NoGradGuard.
//   * Determinism: all randomness (random starts, random targets) comes from `gen`, so the same
//     model, inputs and generator state give bit-identical output on CPU with a fixed thread count.
//   * Per-point results: Perturb returns one adversarial image per input; combining attacks into a
//     per-point worst case is the evaluation's job.
#ifndef ROBUSTNESS_ATTACKS_ATTACK_H_
#define ROBUSTNESS_ATTACKS_ATTACK_H_

#include <string>
#include <vector>

#include <torch/types.h>

#include "robustness/models/image_classifier.h"

namespace robustness {

class Attack {
 public:
  virtual ~Attack() = default;

  // The column label in result tables, from proto::AttackConfig.name (e.g. "PGD-10").
  virtual std::string name() const = 0;

  // images: float32 [N, C, H, W] in [0, 1], on the model's device. labels: int64 [N], the true
  // classes in [0, K). gen: a generator for images' device; consumed in a documented order.
  // Returns x_adv, float32 [N, C, H, W] in [0, 1] with ||x_adv - images|| <= epsilon in the
  // attack's norm (per image), without autograd history. A model in training mode must not be
  // shared with another thread during the call (its training flags are switched); one already
  // in eval mode is only read, so several threads may attack it at once (unit_workers.h).
  virtual torch::Tensor Perturb(ImageClassifierImpl& model, const torch::Tensor& images,
                                const torch::Tensor& labels, torch::Generator& gen) const = 0;

  // Perturb, also appending the attack's own warnings to *warnings (not null): the reference's
  // checks that only an attack can make, e.g. APGD's zero gradients under a DLR loss
  // (research/autoattack.md section 5). AutoAttack puts them in its report. The same output as
  // Perturb; the default raises none.
  virtual torch::Tensor PerturbWithWarnings(ImageClassifierImpl& model,
                                            const torch::Tensor& images,
                                            const torch::Tensor& labels, torch::Generator& gen,
                                            std::vector<std::string>* warnings) const {
    return Perturb(model, images, labels, gen);
  }
};

}  // namespace robustness

#endif  // ROBUSTNESS_ATTACKS_ATTACK_H_
