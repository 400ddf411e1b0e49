// DeiT's repeated-augmentation sampler (RASampler, facebookresearch/deit samplers.py; PAPER.md 3.3
// lists it in the DeiT recipe, though the paper's own scripts turn it off; timm_recipes.md
// section 4). Written for any replica count so that data-parallel training can shard it: rank r of
// R gets the positions r, r + R, ... of one shared epoch order.
#ifndef ROBUSTNESS_DATASETS_REPEATED_AUGMENTATION_SAMPLER_H_
#define ROBUSTNESS_DATASETS_REPEATED_AUGMENTATION_SAMPLER_H_

#include <cstdint>
#include <vector>

namespace robustness {

// The dataset indices rank `rank` visits in epoch `epoch` over n examples:
//   perm = torch.randperm(n) from a generator seeded with `epoch` only (LibTorch's randperm and
//   CPU generator, the same algorithm and stream as PyTorch's, so the order equals DeiT's);
//   every index repeated `repeats` times consecutively; padded from the head to
//   ceil(repeats * n / replicas) * replicas; rank r takes positions r, r + replicas, ...; the
//   first floor(floor(n / length_multiple) * length_multiple / replicas) of them are kept.
// With replicas = 1 the copies of an image sit next to each other (in one batch), as in DeiT.
// CHECKs n >= 1, repeats >= 1, length_multiple >= 1, 0 <= rank < replicas.
// Example: DeiT on ImageNet with 8 GPUs, RepeatedAugmentationOrder(1281167, e, 3, 256, 8, r)
// has 160128 entries per rank.
std::vector<int64_t> RepeatedAugmentationOrder(int64_t n, int64_t epoch, int repeats,
                                               int length_multiple, int replicas, int rank);

}  // namespace robustness

#endif  // ROBUSTNESS_DATASETS_REPEATED_AUGMENTATION_SAMPLER_H_
