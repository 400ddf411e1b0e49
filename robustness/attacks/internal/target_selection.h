// Which class an attack pushes each image towards (proto::TargetMode, robustness/proto/
// attack.proto). The paper's attacks are untargeted (PAPER.md 3.7); the targeted modes follow
// Kurakin et al. ("random other class", "least likely class").
#ifndef ROBUSTNESS_ATTACKS_INTERNAL_TARGET_SELECTION_H_
#define ROBUSTNESS_ATTACKS_INTERNAL_TARGET_SELECTION_H_

#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "robustness/models/image_classifier.h"
#include "robustness/proto/attack.pb.h"

namespace robustness {
namespace attacks_internal {

// OK for UNTARGETED, TARGET_RANDOM_OTHER and TARGET_LEAST_LIKELY; otherwise InvalidArgument
// "<field>: must be UNTARGETED, TARGET_RANDOM_OTHER or TARGET_LEAST_LIKELY, got <value>".
absl::Status ValidateTargetMode(proto::TargetMode mode, absl::string_view field);

// True for TARGET_RANDOM_OTHER and TARGET_LEAST_LIKELY.
bool IsTargeted(proto::TargetMode mode);

// The classes the attack objective uses, int64 [N] on labels' device:
//   UNTARGETED:          labels themselves (the objective ascends their loss); no forward pass,
//                        `gen` untouched.
//   TARGET_RANDOM_OTHER: per image uniform over the K - 1 classes != label; one randint draw of
//                        [N] from `gen`. K comes from one clean forward pass.
//   TARGET_LEAST_LIKELY: argmin of the clean logits (ties: lowest index); `gen` untouched. On a
//                        poor model this may equal the label.
// images: float [N, C, H, W] in [0, 1]; labels: int64 [N] in [0, K). Clean forward passes run
// without autograd and use the model's current mode (callers hold an EvalModeGuard).
// CHECK-fails on TARGET_MODE_UNSPECIFIED or K < 2.
torch::Tensor SelectTargets(proto::TargetMode mode, ImageClassifierImpl& model,
                            const torch::Tensor& images, const torch::Tensor& labels,
                            torch::Generator& gen);

}  // namespace attacks_internal
}  // namespace robustness

#endif  // ROBUSTNESS_ATTACKS_INTERNAL_TARGET_SELECTION_H_
