// tools/train: the project's train.py. Trains one zoo model with one recipe (a TrainConfig,
// optionally layered with a --set fragment) into the model store or a given folder, resumably,
// with progress lines and a JSON-lines log, then evaluates it clean on the test data.
#ifndef TOOLS_TRAIN_TRAIN_TOOL_H_
#define TOOLS_TRAIN_TRAIN_TOOL_H_

#include <string>

#include "absl/status/statusor.h"
#include "tools/train/train_config.pb.h"

namespace robustness {

struct TrainToolOptions {
  std::string config_path;   // a TrainConfig text proto
  std::string set_fragment;  // "" or TrainConfig text that overrides the file's fields
  std::string output_dir;    // "" = the model store
  std::string store_root;    // when output_dir is "" (and for a stored distillation teacher)
  std::string export_path;   // "" or a .pth file for Python's torch.load
  std::string command_line;
};

// The config as RunTrainTool uses it: composed (includes, the --set fragment), every field set,
// every block range-checked (errors name file:line and field).
absl::StatusOr<tools::TrainConfig> LoadTrainConfig(const std::string& config_path,
                                                   const std::string& set_fragment);

// Errors: config (file:line, or "--set:line:col" for the fragment), data, weights, a folder of
// another fingerprint or in use, training and IO errors.
absl::StatusOr<tools::TrainResult> RunTrainTool(const TrainToolOptions& options);

}  // namespace robustness

#endif  // TOOLS_TRAIN_TRAIN_TOOL_H_
