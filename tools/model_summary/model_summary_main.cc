// bazel run //tools/model_summary -- --config=<ModelConfig text proto> [--image_size=N]
//     [--batch=1] [--format=text|markdown|json]
//
// Prints a zoo model's layer table (module, type, parameters, output shape, forward FLOPs), its
// buffers, the total parameter count and the forward GFLOPs at the given input size
// (robustness/models/model_summary.h). A relative --config is taken from the shell's folder,
// e.g. from the checkout root: --config=robustness/models/configs/deit_s.pbtxt.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "robustness/base/process_setup.h"
#include "robustness/base/torch_status.h"
#include "robustness/config/run_paths.h"
#include "robustness/models/model_summary.h"

ABSL_FLAG(std::string, config, "",
          "ModelConfig text proto (robustness/proto/model.proto), e.g. "
          "robustness/models/configs/resnet50.pbtxt. Required.");
ABSL_FLAG(int, image_size, 0, "Input height = width in pixels; 0 keeps the config's image_size.");
ABSL_FLAG(int, batch, 1, "Images per forward pass; FLOPs are reported for the batch and per image.");
ABSL_FLAG(std::string, format, "text", "text, markdown or json.");

int main(int argc, char** argv) {
  robustness::PrepareTensorProcess(argv);  // sleeping OpenMP waits, malloc reuse: process_setup.h
  absl::SetProgramUsageMessage(
      "Layer table, parameter count and forward FLOPs of a model zoo config.");
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_config).empty()) {
    std::fprintf(stderr, "error: --config is required (a ModelConfig text proto)\n");
    return 2;
  }
  absl::StatusOr<robustness::SummaryFormat> format =
      robustness::ParseSummaryFormat(absl::GetFlag(FLAGS_format));
  absl::StatusOr<std::string> config =
      robustness::ResolveConfigPath(absl::GetFlag(FLAGS_config), "", argv[0]);
  if (!format.ok() || !config.ok()) {
    const absl::Status& bad = !format.ok() ? format.status() : config.status();
    std::fprintf(stderr, "error: %s\n", std::string(bad.message()).c_str());
    return 2;
  }
  absl::StatusOr<robustness::ModelSummary> summary;
  try {
    summary = robustness::SummarizeModelConfigFile(*config, absl::GetFlag(FLAGS_image_size),
                                                   absl::GetFlag(FLAGS_batch));
  } catch (const std::exception& e) {
    summary = absl::InternalError(robustness::ExceptionSummary(e));
  }
  if (!summary.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(summary.status().message()).c_str());
    return 1;
  }
  std::fputs(robustness::FormatSummary(*summary, *format).c_str(), stdout);
  return 0;
}
