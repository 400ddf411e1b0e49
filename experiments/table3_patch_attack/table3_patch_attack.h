// Table 3 of the paper (section 4.2; PAPER.md Table 3, claim 4 of section 6): accuracy under the
// Texture Patch Attack of the vanilla CNN and transformer of Table 1 (reused from the model store
// when their rows are Table 1's). The runner is experiments/patch_attack/patch_attack_table.h;
// this file adds the claim Table 3 checks.
#ifndef EXPERIMENTS_TABLE3_PATCH_ATTACK_TABLE3_PATCH_ATTACK_H_
#define EXPERIMENTS_TABLE3_PATCH_ATTACK_TABLE3_PATCH_ATTACK_H_

#include <string>

#include "experiments/patch_attack/patch_attack_result.pb.h"

namespace robustness {

// results.md: the rows beside the paper's, then the claim (the transformer's TPA accuracy above
// the CNN's; the paper: DeiT-S about 28 points above ResNet-50), computed from `result`.
std::string RenderTable3Markdown(const experiments::PatchAttackTableResult& result);

}  // namespace robustness

#endif  // EXPERIMENTS_TABLE3_PATCH_ATTACK_TABLE3_PATCH_ATTACK_H_
