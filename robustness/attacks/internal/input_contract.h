// CHECKs on what every Attack::Perturb receives (robustness/attacks/attack.h). Normalised
// images or labels of the wrong shape are programmer errors that silently produce meaningless
// robustness numbers, so they stop the program with a message saying what to fix.
#ifndef ROBUSTNESS_ATTACKS_INTERNAL_INPUT_CONTRACT_H_
#define ROBUSTNESS_ATTACKS_INTERNAL_INPUT_CONTRACT_H_

#include <torch/types.h>

namespace robustness {
namespace attacks_internal {

// CHECK-fails unless images is a floating [N, C, H, W] tensor with values in [0, 1] and labels is
// int64 [N] on the same device. Costs one min and one max over images.
void CheckAttackInputs(const torch::Tensor& images, const torch::Tensor& labels);

}  // namespace attacks_internal
}  // namespace robustness

#endif  // ROBUSTNESS_ATTACKS_INTERNAL_INPUT_CONTRACT_H_
