// The loop the reference's APGD and FAB perturb share (research/autoattack.md 2.2, 2.6, 3): each
// run attacks the images still robust (ascending index), from their clean images.
//   untargeted: `restarts` runs;
//   targeted:   for rank r = 2 .. min(num_target_classes + 1, K) of the clean logits, `restarts`
//               runs, the targets being each image's r-th largest clean logit (the reference
//               crashes past K; here the ranks stop at K, every wrong class).
// Stops as soon as no image is robust.
#ifndef ROBUSTNESS_ATTACKS_INTERNAL_STILL_ROBUST_LOOP_H_
#define ROBUSTNESS_ATTACKS_INTERNAL_STILL_ROBUST_LOOP_H_

#include <functional>

#include <torch/types.h>

namespace robustness {
namespace attacks_internal {

// `run(index, targets, restart)` attacks images `index` (int64, into the batch) with `targets`
// (int64 like index; undefined when untargeted) and clears `robust` (bool [N]) for the images it
// fooled. clean_logits: [N, K].
void RunOnStillRobust(
    const torch::Tensor& clean_logits, bool targeted, int num_target_classes, int restarts,
    torch::Tensor& robust,
    const std::function<void(const torch::Tensor& index, const torch::Tensor& targets,
                             int restart)>& run);

}  // namespace attacks_internal
}  // namespace robustness

#endif  // ROBUSTNESS_ATTACKS_INTERNAL_STILL_ROBUST_LOOP_H_
