// tools/evaluate: a user's model, weights and images under attack (FGSM, PGD, APGD), the
// RobustBench-style entry point.
//
//   bazel run //tools/evaluate -- --config=$PWD/tools/evaluate/fashion_mnist_apgd.pbtxt
//       --set='weights { checkpoint: "'$PWD'/out/models/<row>-<fingerprint>/checkpoint.pt" }'
//       --output_dir=$PWD/out/evaluate/my_model
//   (one command line)
#include <cstdio>
#include <exception>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "robustness/base/process_setup.h"
#include "robustness/base/torch_status.h"
#include "robustness/config/run_paths.h"
#include "tools/evaluate/evaluate_tool.h"

ABSL_FLAG(std::string, config, "",
          "EvaluateConfig text proto (tools/evaluate/evaluate_config.proto): name, runtime, "
          "model, weights, data, eval_transform, evaluation { radii attacks num_images "
          "batch_size }.");
ABSL_FLAG(std::string, set, "",
          "EvaluateConfig text overriding fields of --config, e.g. "
          "'weights { checkpoint: \"/path/checkpoint.pt\" }'.");
ABSL_FLAG(std::string, output_dir, "", "Where results.json and results.md go (created).");
ABSL_FLAG(bool, save_adversarial, false,
          "auto_attack mode: also write adversarial.pth (torch.save: the adversarial images, "
          "labels, predictions, per radius) for Python's torch.load.");

int main(int argc, char** argv) {
  robustness::PrepareTensorProcess(argv);
  absl::SetProgramUsageMessage(
      "Evaluates a model's clean and robust accuracy.\n  tools/evaluate --config=cfg.pbtxt "
      "[--set='weights { checkpoint: \"ckpt.pt\" }'] --output_dir=DIR");
  absl::ParseCommandLine(argc, argv);
  robustness::EvaluateToolOptions options;
  options.config_path = absl::GetFlag(FLAGS_config);
  if (options.config_path.empty()) {
    std::fprintf(stderr, "error: --config is required (see --help)\n");
    return 2;
  }
  options.config_path = robustness::ResolveUserPath(options.config_path);
  options.set_fragment = absl::GetFlag(FLAGS_set);
  options.output_dir = robustness::ResolveUserPath(absl::GetFlag(FLAGS_output_dir));
  options.save_adversarial = absl::GetFlag(FLAGS_save_adversarial);
  absl::StatusOr<robustness::tools::EvaluateResult> result;
  try {
    result = robustness::RunEvaluateTool(options);
  } catch (const std::exception& e) {
    result = absl::InternalError(robustness::ExceptionSummary(e));
  }
  if (!result.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(result.status().message()).c_str());
    return 1;
  }
  std::printf("%s", robustness::RenderEvaluateMarkdown(*result).c_str());
  std::printf("wrote %s/results.json and results.md\n", options.output_dir.c_str());
  return 0;
}
