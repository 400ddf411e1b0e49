// Table 3: the Texture Patch Attack on Table 1's vanilla CNN and transformer.
//   bazel run //experiments/table3_patch_attack
#include <string>
#include <vector>

#include "experiments/patch_attack/patch_attack_table.h"
#include "experiments/table3_patch_attack/table3_patch_attack.h"
#include "robustness/base/process_setup.h"
#include "robustness/harness/experiment_main.h"

int main(int argc, char** argv) {
  robustness::PrepareTensorProcess(argv);
  return robustness::ExperimentMain(
      argc, argv,
      {"table3_patch_attack",
       "The paper's Table 3: accuracy under the Texture Patch Attack of the Table 1 CNN and "
       "transformer.",
       "experiments/table3_patch_attack/configs/fashion_mnist.pbtxt",
       "results.{json,md}, tpa_accuracy_vs_patches.svg, examples_<row>_<j>.png"},
      [](const std::string& config, const std::string& output_dir,
         const robustness::HarnessOptions& options)
          -> absl::StatusOr<std::vector<robustness::harness::ModelResult>> {
        auto result = robustness::RunPatchAttackTable("table3_patch_attack", config, output_dir,
                                                      options, robustness::RenderTable3Markdown);
        if (!result.ok()) return result.status();
        return std::vector<robustness::harness::ModelResult>(result->models().begin(),
                                                             result->models().end());
      });
}
