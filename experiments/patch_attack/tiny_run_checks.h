// Test-only: what both TPA tables' smoke tests check on their tiny configs, once. Runs the table
// twice with a fresh store and checks every artefact, the attack's invariants per row (TPA
// accuracy <= clean, area <= budget, queries <= budget, accuracy falls with more patches),
// the dictionary built once then reused, and the same numbers on the second run.
#ifndef EXPERIMENTS_PATCH_ATTACK_TINY_RUN_CHECKS_H_
#define EXPERIMENTS_PATCH_ATTACK_TINY_RUN_CHECKS_H_

#include <functional>
#include <string>

#include "experiments/patch_attack/patch_attack_result.pb.h"

namespace robustness {

// Fills *first with the first run's result (left empty when it failed; the failure is reported
// through gtest). `rows`: the config's row count.
void CheckTinyRunTwice(
    const std::string& binary, const std::string& config_path, int rows,
    const std::function<std::string(const experiments::PatchAttackTableResult&)>& render,
    experiments::PatchAttackTableResult* first, std::string* first_markdown);

}  // namespace robustness

#endif  // EXPERIMENTS_PATCH_ATTACK_TINY_RUN_CHECKS_H_
