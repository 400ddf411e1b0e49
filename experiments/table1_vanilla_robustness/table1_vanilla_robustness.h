// Table 1 (PAPER.md section 2, "AutoAttack on vanilla models"; claim 1 of section 6): train a CNN
// with the CNN recipe and a transformer with the DeiT recipe, matched in parameter count, then
// measure clean accuracy and white-box robust accuracy at the paper's radii (0.001, 4/255) and a
// sweep of larger radii. AutoAttack joins the table in a later issue; here the attacks are the
// configured FGSM/PGD list, with the per-image worst case across them.
//
// Output folder (written atomically, in this order):
//   resolved_config.pbtxt, provenance.pbtxt   before any training step
//   checkpoints/<row>.pt                       after every epoch (resumable)
//   results.json, results.md, accuracy_vs_epsilon.svg   at the end
#ifndef EXPERIMENTS_TABLE1_VANILLA_ROBUSTNESS_TABLE1_VANILLA_ROBUSTNESS_H_
#define EXPERIMENTS_TABLE1_VANILLA_ROBUSTNESS_TABLE1_VANILLA_ROBUSTNESS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "experiments/table1_vanilla_robustness/table1_config.pb.h"
#include "experiments/table1_vanilla_robustness/table1_result.pb.h"

namespace robustness {

// Every field set (RequireAllFieldsSet) and every block in range; runs no tensor work except
// opening the data sets' headers. Errors name "<config path>: <field>: <problem>".
absl::Status ValidateTable1Config(const experiments::Table1Config& config,
                                  const std::string& source);

struct Table1Options {
  std::string command_line;  // for provenance
  // Test hook simulating a kill: stop with Aborted after this many epochs of the first row that
  // still trains. -1 = run to the end.
  int stop_after_epochs = -1;
};

// Loads and validates `config_path`, then runs the experiment into `output_dir`.
absl::StatusOr<experiments::Table1Result> RunTable1(const std::string& config_path,
                                                    const std::string& output_dir,
                                                    const Table1Options& options = {});

// The Markdown report (results.md) for a result.
std::string RenderTable1Markdown(const experiments::Table1Result& result);

}  // namespace robustness

#endif  // EXPERIMENTS_TABLE1_VANILLA_ROBUSTNESS_TABLE1_VANILLA_ROBUSTNESS_H_
