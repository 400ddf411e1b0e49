#include "robustness/harness/experiment_main.h"

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_join.h"
#include "robustness/base/atomic_file.h"
#include "robustness/base/torch_status.h"
#include "robustness/config/run_paths.h"

ABSL_FLAG(std::string, config, "",
          "Text-format config of this experiment. Default: the embedded Fashion-MNIST config.");
ABSL_FLAG(std::string, output_dir, "",
          "Folder for results. Default: out/<experiment>/<config name>.");
ABSL_FLAG(std::string, store_root, "",
          "Model store (trained models, reused across runs and tables). Default: "
          "$ROBUSTNESS_MODEL_STORE, else out/models of the checkout.");

namespace robustness {

int ExperimentMain(int argc, char** argv, const ExperimentMainSpec& spec,
                   const ExperimentRunFn& run) {
  absl::SetProgramUsageMessage(spec.usage);
  absl::ParseCommandLine(argc, argv);
  const std::string command_line = absl::StrJoin(argv, argv + argc, " ");
  absl::StatusOr<std::string> config =
      ResolveConfigPath(absl::GetFlag(FLAGS_config), spec.default_config, argv[0]);
  if (!config.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  const std::string output_dir =
      ResolveOutputDir(absl::GetFlag(FLAGS_output_dir), spec.binary, *config);
  std::fprintf(stderr, "config: %s\noutput: %s\n", config->c_str(), output_dir.c_str());
  HarnessOptions options;
  options.command_line = command_line;
  options.store_root = ResolveStoreRoot(absl::GetFlag(FLAGS_store_root));
  absl::StatusOr<std::vector<harness::ModelResult>> rows;
  try {
    rows = run(*config, output_dir, options);
  } catch (const std::exception& e) {
    rows = absl::InternalError(ExceptionSummary(e));
  }
  if (!rows.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(rows.status().message()).c_str());
    return 1;
  }
  for (const harness::ModelResult& m : *rows) {
    std::fprintf(stderr, "%s: %s %s\n", m.label().c_str(),
                 m.reused() ? "reused stored model" : "trained into", m.model_dir().c_str());
  }
  absl::StatusOr<std::string> markdown = ReadFileToString(output_dir + "/results.md");
  if (markdown.ok()) std::printf("%s", markdown->c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "results: %s/%s\n", output_dir.c_str(), spec.outputs.c_str());
  return 0;
}

}  // namespace robustness
