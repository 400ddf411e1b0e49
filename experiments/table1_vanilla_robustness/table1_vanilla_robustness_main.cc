// bazel run //experiments/table1_vanilla_robustness [-- --config=... --output_dir=... --store_root=...]
//
// With no flags: the embedded default (configs/fashion_mnist.pbtxt) into
// out/table1_vanilla_robustness/fashion_mnist/, models from out/models/ (robustness/harness/experiment_main.h).
#include <string>
#include <vector>

#include "experiments/table1_vanilla_robustness/table1_vanilla_robustness.h"
#include "robustness/base/process_setup.h"
#include "robustness/harness/experiment_main.h"

int main(int argc, char** argv) {
  robustness::PrepareTensorProcess(argv);  // OpenMP waits, malloc, kernel pin: process_setup.h
  return robustness::ExperimentMain(
      argc, argv,
      {"table1_vanilla_robustness", "Table 1: vanilla CNN vs. transformer under white-box attacks (FGSM/PGD, AutoAttack).",
       "experiments/table1_vanilla_robustness/configs/fashion_mnist.pbtxt", "results.{json,md}, accuracy_vs_epsilon.svg"},
      [](const std::string& config, const std::string& output_dir,
         const robustness::HarnessOptions& options)
          -> absl::StatusOr<std::vector<robustness::harness::ModelResult>> {
        auto result = robustness::RunTable1(config, output_dir, options);
        if (!result.ok()) return result.status();
        return std::vector<robustness::harness::ModelResult>(result->models().begin(),
                                                             result->models().end());
      });
}
