// Where an experiment binary finds its config and writes its results, under `bazel run` or run
// directly from bazel-bin.
//
// `bazel run` starts the binary inside its runfiles tree and sets BUILD_WORKING_DIRECTORY (the
// user's shell folder) and BUILD_WORKSPACE_DIRECTORY (the checkout). So:
//   * a relative --config or --output_dir is taken relative to the user's folder;
//   * with no --config, the experiment's embedded default is found in the runfiles;
//   * with no --output_dir, results go to <checkout>/out/<binary>/<config stem>/.
#ifndef ROBUSTNESS_CONFIG_RUN_PATHS_H_
#define ROBUSTNESS_CONFIG_RUN_PATHS_H_

#include <string>

#include "absl/status/statusor.h"

namespace robustness {

// `flag_value` as given (may be empty), `default_runfile` the workspace-relative path of the
// embedded default config (e.g. "experiments/x/configs/fashion_mnist.pbtxt"), `argv0` the
// program path. NotFound naming every place tried.
absl::StatusOr<std::string> ResolveConfigPath(const std::string& flag_value,
                                              const std::string& default_runfile,
                                              const std::string& argv0);

// `path` as the user meant it: absolute as is, relative to the user's folder under bazel run.
std::string ResolveUserPath(const std::string& path);

// Where the model store lives (robustness/harness/model_store.h): `flag_value` if set, else
// $ROBUSTNESS_MODEL_STORE, else <checkout>/out/models under bazel run, else ./out/models.
std::string ResolveStoreRoot(const std::string& flag_value);

// `flag_value` resolved against the user's folder, or the default described above.
std::string ResolveOutputDir(const std::string& flag_value, const std::string& binary_name,
                             const std::string& config_path);

}  // namespace robustness

#endif  // ROBUSTNESS_CONFIG_RUN_PATHS_H_
