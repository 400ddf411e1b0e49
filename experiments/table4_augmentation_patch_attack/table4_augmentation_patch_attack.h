// Table 4 of the paper (section 4.2; PAPER.md Table 4, claim 4 of section 6): the CNN trained with
// subsets of DeiT's augmentations {RandAugment, MixUp, CutMix}, clean and under the Texture Patch
// Attack, beside Table 1's transformer. The runner is experiments/patch_attack/
// patch_attack_table.h; this file adds the claims Table 4 checks.
#ifndef EXPERIMENTS_TABLE4_AUGMENTATION_PATCH_ATTACK_TABLE4_AUGMENTATION_PATCH_ATTACK_H_
#define EXPERIMENTS_TABLE4_AUGMENTATION_PATCH_ATTACK_TABLE4_AUGMENTATION_PATCH_ATTACK_H_

#include <string>

#include "experiments/patch_attack/patch_attack_result.pb.h"

namespace robustness {

// results.md: the rows, then the claims computed from `result`: CutMix decides the TPA result
// (every CNN row with CutMix above every CNN row without), and the CNN with RandAugment + CutMix
// at least as robust as the transformer.
std::string RenderTable4Markdown(const experiments::PatchAttackTableResult& result);

}  // namespace robustness

#endif  // EXPERIMENTS_TABLE4_AUGMENTATION_PATCH_ATTACK_TABLE4_AUGMENTATION_PATCH_ATTACK_H_
