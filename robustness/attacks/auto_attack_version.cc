#include "robustness/attacks/auto_attack_version.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace robustness {
namespace {

proto::AttackConfig ApgdStage(const std::string& name, proto::Norm norm, proto::ApgdLoss loss,
                              int restarts, int targets) {
  proto::AttackConfig a;
  a.set_name(name);
  proto::ApgdConfig* c = a.mutable_apgd();
  c->set_norm(norm);
  c->set_loss(loss);
  c->set_num_iterations(100);
  c->set_restarts(restarts);
  c->set_num_target_classes(targets);
  c->set_rho(0.75);
  c->set_eot_iterations(1);
  return a;
}

proto::AttackConfig FabStage(const std::string& name, proto::Norm norm, bool targeted,
                             int restarts) {
  proto::AttackConfig a;
  a.set_name(name);
  proto::FabConfig* c = a.mutable_fab();
  c->set_norm(norm);
  c->set_targeted(targeted);
  c->set_num_iterations(100);
  c->set_restarts(restarts);
  c->set_num_target_classes(targeted ? 9 : 0);
  c->set_alpha_max(0.1);
  c->set_eta(1.05);
  c->set_beta(0.9);
  return a;
}

proto::AttackConfig SquareStage(proto::Norm norm) {
  proto::AttackConfig a;
  a.set_name("Square");
  proto::SquareConfig* c = a.mutable_square();
  c->set_norm(norm);
  c->set_num_queries(5000);
  c->set_p_init(0.8);
  c->set_restarts(1);
  return a;
}

}  // namespace

absl::StatusOr<std::vector<proto::AttackConfig>> AutoAttackVersionStages(
    AutoAttackVersion version, proto::Norm norm) {
  if (norm != proto::LINF && norm != proto::L2) {
    return absl::InvalidArgumentError(
        absl::StrCat("AutoAttack versions are built for LINF and L2, got ", proto::Norm_Name(norm)));
  }
  if (version == AutoAttackVersion::kStandard) {
    return std::vector<proto::AttackConfig>{
        ApgdStage("APGD-CE", norm, proto::CE, 1, 0),
        ApgdStage("APGD-T", norm, proto::DLR_TARGETED, 1, 9),
        FabStage("FAB-T", norm, /*targeted=*/true, 1),
        SquareStage(norm),
    };
  }
  return std::vector<proto::AttackConfig>{
      ApgdStage("APGD-CE", norm, proto::CE, 5, 0),
      ApgdStage("APGD-DLR", norm, proto::DLR, 5, 0),
      FabStage("FAB", norm, /*targeted=*/false, 5),
      SquareStage(norm),
      ApgdStage("APGD-T", norm, proto::DLR_TARGETED, 1, 9),
      FabStage("FAB-T", norm, /*targeted=*/true, 1),
  };
}

}  // namespace robustness
