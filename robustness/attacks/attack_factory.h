// Builds the Attack a proto::AttackConfig describes (robustness/proto/attack.proto), switching on
// its `attack` oneof. The radius is not part of the config: the evaluation that runs the attack
// passes it, so one config serves a whole epsilon sweep (PAPER.md Table 1: 0.001 and 4/255).
//
//   ASSIGN_OR_RETURN(std::unique_ptr<Attack> attack,
//                    CreateAttack(config.attack(), RadiusToPixels(config.epsilon())));
//   torch::Tensor x_adv = attack->Perturb(*model, images, labels, gen);
#ifndef ROBUSTNESS_ATTACKS_ATTACK_FACTORY_H_
#define ROBUSTNESS_ATTACKS_ATTACK_FACTORY_H_

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "robustness/attacks/attack.h"
#include "robustness/proto/attack.pb.h"

namespace robustness {

// Range checks for every field, run before any tensor work. OK, or InvalidArgument naming the
// field path from the AttackConfig (prefix "attack.") and the offending value:
//   "attack.name: must be a non-empty column label"
//   "attack.attack: must be set (one of fgsm, pgd, apgd, square, fab)"
//   "attack.pgd.num_steps: must be >= 1, got 0"
// The per-attack rules are ValidateFgsmConfig (fgsm.h), ValidatePgdConfig (pgd.h),
// ValidateApgdConfig (apgd.h), ValidateSquareConfig (square.h) and ValidateFabConfig (fab.h).
absl::Status ValidateAttackConfig(const proto::AttackConfig& config);

// Validates `config` and `epsilon` (in (0, 1] pixel units: 4/255, not 4; error
// "epsilon: must be in (0, 1] pixel units, got 4"), then returns the attack, named config.name().
absl::StatusOr<std::unique_ptr<Attack>> CreateAttack(const proto::AttackConfig& config,
                                                     double epsilon);

}  // namespace robustness

#endif  // ROBUSTNESS_ATTACKS_ATTACK_FACTORY_H_
