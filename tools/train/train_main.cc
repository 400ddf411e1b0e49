// tools/train: train any zoo model with any recipe into the model store (or a folder).
//
//   bazel run //tools/train -- --config=$PWD/tools/train/fashion_mnist_resnet18_w16.pbtxt
//   bazel run //tools/train -- --config=$PWD/my_pair_cnn.pbtxt
//       --set='run { training { epochs: 4 } }' --output_dir=$PWD/out/my_cnn --export=$PWD/my_cnn.pth
//   (one command line)
//
// Killed at any point (even SIGKILL), the same command resumes from the last finished epoch and
// ends with bitwise the same weights as an uninterrupted run (CPU, same threads).
#include <cstdio>
#include <exception>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_join.h"
#include "robustness/base/process_setup.h"
#include "robustness/base/torch_status.h"
#include "robustness/config/run_paths.h"
#include "tools/train/train_tool.h"

ABSL_FLAG(std::string, config, "",
          "TrainConfig text proto (tools/train/train_config.proto): name, runtime, train_data, "
          "test_data, eval_transform, run { label family replica init_weights paper_row model "
          "training }. Blocks may `include` zoo models (robustness/models/configs), recipes "
          "(robustness/recipes) and data (robustness/datasets/configs).");
ABSL_FLAG(std::string, set, "",
          "TrainConfig text overriding fields of --config, e.g. "
          "'run { training { epochs: 4 optimizer { peak_lr: 0.05 } } }'.");
ABSL_FLAG(std::string, output_dir, "",
          "Train into this folder instead of the model store (it must be new, or hold this "
          "model: a folder of another fingerprint is refused).");
ABSL_FLAG(std::string, store_root, "",
          "Model store root. Default: $ROBUSTNESS_MODEL_STORE, else out/models of the checkout.");
ABSL_FLAG(std::string, export, "",
          "Also write the trained weights as a torch.save state dict for Python (torchvision / "
          "timm names).");

int main(int argc, char** argv) {
  robustness::PrepareTensorProcess(argv);
  absl::SetProgramUsageMessage(
      "Trains one model with one recipe into the model store (resumable), then evaluates it "
      "clean.\n  tools/train --config=cfg.pbtxt [--set='run { training { epochs: 4 } }'] "
      "[--output_dir=DIR | --store_root=DIR] [--export=model.pth]");
  absl::ParseCommandLine(argc, argv);
  robustness::TrainToolOptions options;
  options.config_path = absl::GetFlag(FLAGS_config);
  if (options.config_path.empty()) {
    std::fprintf(stderr, "error: --config is required (see --help)\n");
    return 2;
  }
  options.config_path = robustness::ResolveUserPath(options.config_path);
  options.set_fragment = absl::GetFlag(FLAGS_set);
  options.output_dir = robustness::ResolveUserPath(absl::GetFlag(FLAGS_output_dir));
  options.store_root = robustness::ResolveStoreRoot(absl::GetFlag(FLAGS_store_root));
  options.export_path = robustness::ResolveUserPath(absl::GetFlag(FLAGS_export));
  options.command_line = absl::StrJoin(argv, argv + argc, " ");
  absl::StatusOr<robustness::tools::TrainResult> result;
  try {
    result = robustness::RunTrainTool(options);
  } catch (const std::exception& e) {
    result = absl::InternalError(robustness::ExceptionSummary(e));
  }
  if (!result.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(result.status().message()).c_str());
    return 1;
  }
  std::printf("%s: %s %s\n  %d epochs, final train loss %.4f, clean accuracy %.2f%% on %lld "
              "test images\n  weights sha256 %s\n",
              result->name().c_str(), result->reused() ? "reused" : "trained",
              result->model_dir().c_str(), result->epochs(), result->final_train_loss(),
              result->clean_accuracy(), static_cast<long long>(result->num_test_images()),
              result->weights_sha256().c_str());
  if (!result->exported_weights().empty()) {
    std::printf("  exported %s\n", result->exported_weights().c_str());
  }
  return 0;
}
