#include "robustness/attacks/attack_factory.h"

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "robustness/attacks/apgd.h"
#include "robustness/attacks/fab.h"
#include "robustness/attacks/fgsm.h"
#include "robustness/attacks/pgd.h"
#include "robustness/attacks/radius.h"
#include "robustness/attacks/square.h"
#include "robustness/base/status_macros.h"

namespace robustness {

absl::Status ValidateAttackConfig(const proto::AttackConfig& config) {
  if (config.name().empty()) {
    return absl::InvalidArgumentError("attack.name: must be a non-empty column label");
  }
  switch (config.attack_case()) {
    case proto::AttackConfig::kFgsm:
      return ValidateFgsmConfig(config.fgsm(), "attack.fgsm");
    case proto::AttackConfig::kPgd:
      return ValidatePgdConfig(config.pgd(), "attack.pgd");
    case proto::AttackConfig::kApgd:
      return ValidateApgdConfig(config.apgd(), "attack.apgd");
    case proto::AttackConfig::kSquare:
      return ValidateSquareConfig(config.square(), "attack.square");
    case proto::AttackConfig::kFab:
      return ValidateFabConfig(config.fab(), "attack.fab");
    case proto::AttackConfig::ATTACK_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("attack.attack: must be set (one of fgsm, pgd, apgd, square, fab)");
}

absl::StatusOr<std::unique_ptr<Attack>> CreateAttack(const proto::AttackConfig& config,
                                                     double epsilon) {
  RETURN_IF_ERROR(ValidateAttackConfig(config));
  RETURN_IF_ERROR(ValidatePixelRadius(epsilon, "epsilon"));
  switch (config.attack_case()) {
    case proto::AttackConfig::kFgsm:
      return std::make_unique<Fgsm>(config.name(), config.fgsm(), epsilon);
    case proto::AttackConfig::kPgd:
      return std::make_unique<Pgd>(config.name(), config.pgd(), epsilon);
    case proto::AttackConfig::kApgd:
      return std::make_unique<Apgd>(config.name(), config.apgd(), epsilon);
    case proto::AttackConfig::kSquare:
      return std::make_unique<Square>(config.name(), config.square(), epsilon);
    case proto::AttackConfig::kFab:
      return std::make_unique<Fab>(config.name(), config.fab(), epsilon);
    case proto::AttackConfig::ATTACK_NOT_SET:
      break;
  }
  return absl::InternalError("CreateAttack: unreachable, ValidateAttackConfig checked the oneof");
}

}  // namespace robustness
