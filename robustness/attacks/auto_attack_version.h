// AutoAttack's named versions as stage lists (fra31/auto-attack at a392200, set_version;
// research/autoattack.md 1.2), for the L-inf and L2 norms:
//   standard: APGD-CE (1 restart), APGD-T (9 targets x 1 restart), FAB-T (9 targets, 1 restart,
//             no random start), Square (5000 queries, p_init 0.8); 100 iterations each.
//   plus:     APGD-CE (5 restarts), APGD-DLR (5 restarts), FAB (untargeted, 5 restarts), Square
//             (5000 queries), APGD-T (9 targets x 1), FAB-T (9 targets x 1).
// Every stage has the reference's constants: APGD rho 0.75, 1 EOT draw; FAB alpha_max 0.1, eta
// 1.05, beta 0.9. The stage names ("APGD-CE", "APGD-T", "FAB-T", "Square", "APGD-DLR", "FAB")
// label the results; "Square" is what the Square-beats-white-box check looks for.
#ifndef ROBUSTNESS_ATTACKS_AUTO_ATTACK_VERSION_H_
#define ROBUSTNESS_ATTACKS_AUTO_ATTACK_VERSION_H_

#include <vector>

#include "absl/status/statusor.h"
#include "robustness/proto/attack.pb.h"

namespace robustness {

enum class AutoAttackVersion { kStandard, kPlus };

// The stages of `version` for `norm` (LINF or L2; anything else is InvalidArgument: the
// reference's L1 variants are not built).
absl::StatusOr<std::vector<proto::AttackConfig>> AutoAttackVersionStages(
    AutoAttackVersion version, proto::Norm norm);

}  // namespace robustness

#endif  // ROBUSTNESS_ATTACKS_AUTO_ATTACK_VERSION_H_
