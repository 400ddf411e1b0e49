// bazel run //experiments/table2_adversarial_training [-- --config=... --output_dir=... --store_root=...]
//
// With no flags: the embedded default (configs/fashion_mnist.pbtxt) into
// out/table2_adversarial_training/fashion_mnist/, models from out/models/.
#include <cstdio>
#include <exception>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_join.h"
#include "experiments/table2_adversarial_training/table2_adversarial_training.h"
#include "robustness/base/atomic_file.h"
#include "robustness/base/process_setup.h"
#include "robustness/base/torch_status.h"
#include "robustness/config/run_paths.h"

ABSL_FLAG(std::string, config, "",
          "Text-format Table2Config. Default: the embedded Fashion-MNIST config.");
ABSL_FLAG(std::string, output_dir, "",
          "Folder for results. Default: out/table2_adversarial_training/<config>.");
ABSL_FLAG(std::string, store_root, "",
          "Model store (trained models, reused across runs and tables). Default: "
          "$ROBUSTNESS_MODEL_STORE, else out/models of the checkout.");

int main(int argc, char** argv) {
  robustness::PrepareTensorProcess(argv);  // OpenMP waits, malloc, kernel pin: process_setup.h
  absl::SetProgramUsageMessage("Table 2: adversarially trained CNNs and transformers (PGD-100, AutoAttack).");
  absl::ParseCommandLine(argc, argv);
  const std::string command_line = absl::StrJoin(argv, argv + argc, " ");
  absl::StatusOr<std::string> config = robustness::ResolveConfigPath(
      absl::GetFlag(FLAGS_config),
      "experiments/table2_adversarial_training/configs/fashion_mnist.pbtxt", argv[0]);
  if (!config.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  const std::string output_dir = robustness::ResolveOutputDir(
      absl::GetFlag(FLAGS_output_dir), "table2_adversarial_training", *config);
  std::fprintf(stderr, "config: %s\noutput: %s\n", config->c_str(), output_dir.c_str());
  robustness::HarnessOptions options;
  options.command_line = command_line;
  options.store_root = robustness::ResolveStoreRoot(absl::GetFlag(FLAGS_store_root));
  absl::StatusOr<robustness::experiments::Table2Result> result;
  try {
    result = robustness::RunTable2(*config, output_dir, options);
  } catch (const std::exception& e) {
    result = absl::InternalError(robustness::ExceptionSummary(e));
  }
  if (!result.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(result.status().message()).c_str());
    return 1;
  }
  for (const auto& m : result->models()) {
    std::fprintf(stderr, "%s: %s %s\n", m.label().c_str(),
                 m.reused() ? "reused stored model" : "trained into", m.model_dir().c_str());
  }
  absl::StatusOr<std::string> markdown =
      robustness::ReadFileToString(output_dir + "/results.md");
  if (markdown.ok()) std::printf("%s", markdown->c_str());
  std::fprintf(stderr, "results: %s/results.{json,md}\n",
               output_dir.c_str());
  return 0;
}
