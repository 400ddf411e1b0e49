// Fast gradient sign method (Goodfellow et al. 2015) and its L2 form (fast gradient method):
// one ascent step of length epsilon from the clean image. PAPER.md 3.6: the adversarial-training
// attack is PGD-1 with step = epsilon, which is exactly this attack plus the paper's random-start
// coin flip.
//
//   Linf: x_adv = clip_[0,1](x + eps * sign(g))
//   L2:   x_adv = clip_[0,1](x + eps * g / ||g||_2)          (per image)
// with g = d/dx CE(model(x), y) (untargeted: the loss of the true label goes up) or
// g = -d/dx CE(model(x), t) (targeted: the loss of the target t goes down; t from the config's
// TargetMode, see internal/target_selection.h).
#ifndef ROBUSTNESS_ATTACKS_FGSM_H_
#define ROBUSTNESS_ATTACKS_FGSM_H_

#include <string>

#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "robustness/attacks/attack.h"
#include "robustness/models/image_classifier.h"
#include "robustness/proto/attack.pb.h"
#include "robustness/tensors/projection.h"

namespace robustness {

// OK when norm is LINF or L2 and target_mode is set. Errors are InvalidArgument naming
// `path` + field and the value: "attack.fgsm.norm: must be LINF or L2, got NORM_UNSPECIFIED".
absl::Status ValidateFgsmConfig(const proto::FgsmConfig& config, absl::string_view path);

class Fgsm : public Attack {
 public:
  // Preconditions (CHECKed): ValidateFgsmConfig(config, ...) is OK and 0 < epsilon <= 1 (pixel
  // units). CreateAttack (attack_factory.h) reports both as a Status instead.
  Fgsm(std::string name, const proto::FgsmConfig& config, double epsilon);

  std::string name() const override { return name_; }

  // See Attack::Perturb. Consumes `gen` only for TARGET_RANDOM_OTHER (one [N] randint draw).
  // Cost: one forward-backward pass, plus one forward pass for the targeted modes.
  torch::Tensor Perturb(ImageClassifierImpl& model, const torch::Tensor& images,
                        const torch::Tensor& labels, torch::Generator& gen) const override;

 private:
  std::string name_;
  LpNorm norm_;
  proto::TargetMode target_mode_;
  double epsilon_;
};

}  // namespace robustness

#endif  // ROBUSTNESS_ATTACKS_FGSM_H_
