// bazel run //experiments/table2_adversarial_training [-- --config=... --output_dir=... --store_root=...]
//
// With no flags: the embedded default (configs/fashion_mnist.pbtxt) into
// out/table2_adversarial_training/fashion_mnist/, models from out/models/ (robustness/harness/experiment_main.h).
#include <string>
#include <vector>

#include "experiments/table2_adversarial_training/table2_adversarial_training.h"
#include "robustness/base/process_setup.h"
#include "robustness/harness/experiment_main.h"

int main(int argc, char** argv) {
  robustness::PrepareTensorProcess(argv);  // OpenMP waits, malloc, kernel pin: process_setup.h
  return robustness::ExperimentMain(
      argc, argv,
      {"table2_adversarial_training", "Table 2: adversarially trained CNNs and transformers (PGD, AutoAttack).",
       "experiments/table2_adversarial_training/configs/fashion_mnist.pbtxt", "results.{json,md}"},
      [](const std::string& config, const std::string& output_dir,
         const robustness::HarnessOptions& options)
          -> absl::StatusOr<std::vector<robustness::harness::ModelResult>> {
        auto result = robustness::RunTable2(config, output_dir, options);
        if (!result.ok()) return result.status();
        return std::vector<robustness::harness::ModelResult>(result->models().begin(),
                                                             result->models().end());
      });
}
