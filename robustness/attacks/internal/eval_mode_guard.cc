#include "robustness/attacks/internal/eval_mode_guard.h"

#include <torch/nn/module.h>

namespace robustness {
namespace attacks_internal {

EvalModeGuard::EvalModeGuard(torch::nn::Module& module)
    : root_(module), root_was_training_(module.is_training()) {
  // modules(include_self=false): the root may not be owned by a shared_ptr (shared_from_this).
  for (const auto& m : module.modules(/*include_self=*/false)) {
    descendants_.emplace_back(m, m->is_training());
    any_training_ = any_training_ || m->is_training();
  }
  any_training_ = any_training_ || root_was_training_;
  // Nothing is written when the tree is already in eval mode, so that worker threads sharing a
  // model in eval mode (robustness/base/unit_workers.h) never write its flags.
  if (any_training_) module.eval();
}

EvalModeGuard::~EvalModeGuard() {
  if (!any_training_) return;
  root_.train(root_was_training_);
  for (const auto& [m, was_training] : descendants_) {
    if (m->is_training() != was_training) m->train(was_training);
  }
}

}  // namespace attacks_internal
}  // namespace robustness
