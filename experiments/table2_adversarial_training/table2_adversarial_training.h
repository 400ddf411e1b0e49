// Table 2 (PAPER.md Table 2, sections 3.6-3.7 and 4.1; claim 2 and the recipe-swap paragraphs of
// section 6): models adversarially trained with PGD-1 (their recipes' `adversarial` block), then
// clean accuracy, PGD-k (`evaluation`, PGD-100 in the paper) and AutoAttack (`auto_attack`,
// standard L-inf). The rows play the paper's: ResNet-ReLU and ResNet-GELU with the CNN
// adversarial recipe, DeiT with its own (with the augmentation curriculum), and the two swaps
// (DeiT with the CNN recipe, ResNet with the DeiT recipe), found by ModelRun.paper_row.
//
// Models come from the model store (robustness/harness/model_store.h): a second run trains
// nothing. Output folder (written atomically, in this order):
//   resolved_config.pbtxt, provenance.pbtxt   before any training step
//   results.json, results.md                  at the end
#ifndef EXPERIMENTS_TABLE2_ADVERSARIAL_TRAINING_TABLE2_ADVERSARIAL_TRAINING_H_
#define EXPERIMENTS_TABLE2_ADVERSARIAL_TRAINING_TABLE2_ADVERSARIAL_TRAINING_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "experiments/table2_adversarial_training/table2_config.pb.h"
#include "experiments/table2_adversarial_training/table2_result.pb.h"
#include "robustness/config/composed_config.h"
#include "robustness/harness/experiment.h"

namespace robustness {

// Every block in range, and every row trained adversarially (training.adversarial set): Table 2
// is about adversarial training. Errors name the file and line (`origins`), else `source`.
absl::Status ValidateTable2Config(const experiments::Table2Config& config,
                                  const std::string& source, const ConfigOrigins& origins);

// Loads, composes and validates `config_path`, then runs the experiment into `output_dir`.
absl::StatusOr<experiments::Table2Result> RunTable2(const std::string& config_path,
                                                    const std::string& output_dir,
                                                    const HarnessOptions& options = {});

// results.md: our numbers beside the paper's and the claim checks, computed from `result`.
std::string RenderTable2Markdown(const experiments::Table2Result& result);

}  // namespace robustness

#endif  // EXPERIMENTS_TABLE2_ADVERSARIAL_TRAINING_TABLE2_ADVERSARIAL_TRAINING_H_
