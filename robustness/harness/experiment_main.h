// The command line every experiment binary shares: --config (default: the embedded config),
// --output_dir (default: out/<binary>/<config name>), --store_root (default:
// $ROBUSTNESS_MODEL_STORE, else out/models of the checkout); prints which rows were trained or
// reused, the results.md, and where the results went. Exit status 0, 1 (the run failed: the
// error on stderr) or 2 (no such config).
//
//   int main(int argc, char** argv) {
//     robustness::PrepareTensorProcess(argv);
//     return robustness::ExperimentMain(argc, argv, {"table1_vanilla_robustness", ...}, Run);
//   }
#ifndef ROBUSTNESS_HARNESS_EXPERIMENT_MAIN_H_
#define ROBUSTNESS_HARNESS_EXPERIMENT_MAIN_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "robustness/harness/experiment.h"
#include "robustness/harness/results.pb.h"

namespace robustness {

struct ExperimentMainSpec {
  std::string binary;          // e.g. "table1_vanilla_robustness" (names the output folder)
  std::string usage;           // one line for --help
  std::string default_config;  // workspace path of the embedded default config
  std::string outputs;         // what the output folder holds, e.g. "results.{json,md}"
};

// Runs the experiment on (config path, output folder, options) and returns its rows.
using ExperimentRunFn = std::function<absl::StatusOr<std::vector<harness::ModelResult>>(
    const std::string& config_path, const std::string& output_dir,
    const HarnessOptions& options)>;

// Parses the flags (absl), resolves the paths and runs `run`; exceptions from LibTorch become
// errors. Call PrepareTensorProcess(argv) first.
int ExperimentMain(int argc, char** argv, const ExperimentMainSpec& spec,
                   const ExperimentRunFn& run);

}  // namespace robustness

#endif  // ROBUSTNESS_HARNESS_EXPERIMENT_MAIN_H_
