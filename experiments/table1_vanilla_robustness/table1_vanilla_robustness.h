// Table 1 (PAPER.md section 2, "AutoAttack on vanilla models"; claim 1 of section 6): train a CNN
// with the CNN recipe and a transformer with the DeiT recipe, matched in parameter count, then
// measure clean accuracy and white-box robust accuracy at the paper's radii (0.001, 4/255) and a
// sweep of larger radii, with the configured FGSM/PGD list (per-image worst case across them)
// and AutoAttack (the paper's attack, standard L-inf) on the first auto_attack.num_images.
//
// Models come from the model store (robustness/harness/model_store.h): a second run trains
// nothing. Output folder (written atomically, in this order):
//   resolved_config.pbtxt, provenance.pbtxt              before any training step
//   results.json, results.md, accuracy_vs_epsilon.svg    at the end
#ifndef EXPERIMENTS_TABLE1_VANILLA_ROBUSTNESS_TABLE1_VANILLA_ROBUSTNESS_H_
#define EXPERIMENTS_TABLE1_VANILLA_ROBUSTNESS_TABLE1_VANILLA_ROBUSTNESS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "experiments/table1_vanilla_robustness/table1_config.pb.h"
#include "experiments/table1_vanilla_robustness/table1_result.pb.h"
#include "robustness/config/composed_config.h"
#include "robustness/harness/experiment.h"

namespace robustness {

// Every block in range (the harness's Validate* plus Table 1's own rules); runs no tensor work.
// Errors name the file and line that set the offending value (`origins`), else `source`.
absl::Status ValidateTable1Config(const experiments::Table1Config& config,
                                  const std::string& source, const ConfigOrigins& origins);

// Loads, composes and validates `config_path`, then runs the experiment into `output_dir`,
// with its models from the store at options.store_root.
absl::StatusOr<experiments::Table1Result> RunTable1(const std::string& config_path,
                                                    const std::string& output_dir,
                                                    const HarnessOptions& options = {});

// The Markdown report (results.md) for a result, the paper's numbers beside ours.
std::string RenderTable1Markdown(const experiments::Table1Result& result);

}  // namespace robustness

#endif  // EXPERIMENTS_TABLE1_VANILLA_ROBUSTNESS_TABLE1_VANILLA_ROBUSTNESS_H_
