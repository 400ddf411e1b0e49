// RAII: a module tree in eval mode for one scope, every module's own training flag restored after.
// Attacks run the model in eval mode (PAPER.md 3.6: "the attack runs with the model in eval mode,
// then training switches back to train mode"); forgetting to restore, or restoring with one
// recursive train(flag) that overwrites deliberately frozen submodules (e.g. BatchNorm kept in
// eval while fine-tuning), are both classic attack-library bugs.
#ifndef ROBUSTNESS_ATTACKS_INTERNAL_EVAL_MODE_GUARD_H_
#define ROBUSTNESS_ATTACKS_INTERNAL_EVAL_MODE_GUARD_H_

#include <memory>
#include <utility>
#include <vector>

#include <torch/nn/module.h>

namespace robustness {
namespace attacks_internal {

class EvalModeGuard {
 public:
  // Records the training flag of `module` and of every descendant, then calls module.eval().
  // `module` must outlive the guard. A tree already entirely in eval mode is never written, by
  // the guard or its destructor: several threads may then guard one shared model.
  explicit EvalModeGuard(torch::nn::Module& module);
  // Restores every recorded flag exactly (not one recursive train(flag) on the root).
  ~EvalModeGuard();

  EvalModeGuard(const EvalModeGuard&) = delete;
  EvalModeGuard& operator=(const EvalModeGuard&) = delete;

 private:
  torch::nn::Module& root_;
  bool root_was_training_;
  bool any_training_ = false;
  // Descendants in pre-order with their flags; restoring in this order lets a child's flag win
  // over the recursive train() of its parent.
  std::vector<std::pair<std::shared_ptr<torch::nn::Module>, bool>> descendants_;
};

}  // namespace attacks_internal
}  // namespace robustness

#endif  // ROBUSTNESS_ATTACKS_INTERNAL_EVAL_MODE_GUARD_H_
