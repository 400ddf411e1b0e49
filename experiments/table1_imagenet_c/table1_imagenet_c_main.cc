// The paper's OOD column "ImageNet-C" for the Table 1 models (Fashion-MNIST-C by default).
//   bazel run //experiments/table1_imagenet_c
#include <string>
#include <vector>

#include "experiments/table1_imagenet_c/table1_imagenet_c.h"
#include "robustness/base/process_setup.h"
#include "robustness/harness/experiment_main.h"

int main(int argc, char** argv) {
  robustness::PrepareTensorProcess(argv);
  return robustness::ExperimentMain(
      argc, argv,
      {"table1_imagenet_c",
       "The paper's ImageNet-C column (mean corruption error) for the Table 1 CNN and transformer.",
       "experiments/table1_imagenet_c/configs/fashion_mnist.pbtxt",
       "results.{json,md}, imagenet_c_heatmap_<row>.svg"},
      [](const std::string& config, const std::string& output_dir,
         const robustness::HarnessOptions& options)
          -> absl::StatusOr<std::vector<robustness::harness::ModelResult>> {
        auto result = robustness::RunImageNetC(config, output_dir, options);
        if (!result.ok()) return result.status();
        return std::vector<robustness::harness::ModelResult>(result->models().begin(),
                                                             result->models().end());
      });
}
