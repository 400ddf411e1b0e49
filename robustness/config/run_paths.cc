#include "robustness/config/run_paths.h"

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace robustness {
std::string ResolveUserPath(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  const char* cwd = std::getenv("BUILD_WORKING_DIRECTORY");
  return cwd != nullptr ? absl::StrCat(cwd, "/", path) : path;
}

std::string ResolveStoreRoot(const std::string& flag_value) {
  if (!flag_value.empty()) return ResolveUserPath(flag_value);
  if (const char* env = std::getenv("ROBUSTNESS_MODEL_STORE"); env != nullptr && *env) {
    return ResolveUserPath(env);
  }
  const char* ws = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  return absl::StrCat(ws != nullptr ? ws : ".", "/out/models");
}

absl::StatusOr<std::string> ResolveConfigPath(const std::string& flag_value,
                                              const std::string& default_runfile,
                                              const std::string& argv0) {
  if (!flag_value.empty()) {
    const std::string path = ResolveUserPath(flag_value);
    if (!std::filesystem::exists(path)) {
      return absl::NotFoundError(absl::StrCat("--config: no such file '", path, "'"));
    }
    return path;
  }
  std::vector<std::string> candidates = {
      default_runfile,                                                   // bazel run / tests
      absl::StrCat(argv0, ".runfiles/robustness/", default_runfile),     // bazel-bin/...
  };
  if (const char* ws = std::getenv("BUILD_WORKSPACE_DIRECTORY")) {
    candidates.push_back(absl::StrCat(ws, "/", default_runfile));
  }
  for (const std::string& c : candidates) {
    if (std::filesystem::exists(c)) return c;
  }
  return absl::NotFoundError(absl::StrCat("default config not found; tried: ",
                                          absl::StrJoin(candidates, ", "),
                                          ". Pass --config=path/to/config.pbtxt"));
}

std::string ResolveOutputDir(const std::string& flag_value, const std::string& binary_name,
                             const std::string& config_path) {
  if (!flag_value.empty()) return ResolveUserPath(flag_value);
  const std::string stem = std::filesystem::path(config_path).stem().string();
  const char* ws = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  return absl::StrCat(ws != nullptr ? ws : ".", "/out/", binary_name, "/", stem);
}

}  // namespace robustness
