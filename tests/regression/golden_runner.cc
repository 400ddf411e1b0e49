// The one CI regression mechanism for every experiment (tests/README.md): runs an experiment
// binary on its tiny config in a fresh output folder and model store, with portable kernels
// (ROBUSTNESS_PORTABLE_KERNELS=1, robustness/base/kernel_isa.h), and compares its results.json
// with the committed golden file: exactly, or within the fallback tolerance on a CPU without
// AVX2 (result_diff.h). Timing fields are ignored.
//
//   bazel test //tests/regression:table1_tiny_golden           compare
//   bazel run //tests/regression:table1_tiny_golden -- --update   regenerate the golden file
//   tools/update_golden.sh [name ...]                              regenerate some or all
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "robustness/base/atomic_file.h"
#include "robustness/base/kernel_isa.h"
#include "robustness/harness/result_diff.h"

ABSL_FLAG(std::string, binary, "", "Experiment binary (runfiles path).");
ABSL_FLAG(std::string, config, "", "Its tiny config (runfiles path).");
ABSL_FLAG(std::string, golden, "", "Golden results.json (runfiles path).");
ABSL_FLAG(std::string, golden_source, "", "The golden file's path in the checkout (for --update).");
ABSL_FLAG(bool, update, false, "Regenerate the golden file in the checkout instead of comparing.");

namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "FAIL: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  namespace fs = std::filesystem;
  const char* test_tmp = std::getenv("TEST_TMPDIR");
  std::string tmp = test_tmp != nullptr ? test_tmp : "";
  if (tmp.empty()) {
    char pattern[] = "/tmp/golden_run.XXXXXX";
    if (mkdtemp(pattern) == nullptr) return Fail("cannot create a temporary folder");
    tmp = pattern;
  }
  const std::string out = tmp + "/run", store = tmp + "/store";
  fs::remove_all(out);
  fs::remove_all(store);

  const bool exact = robustness::CpuSupportsPortableKernels();
  if (exact) {
    setenv(robustness::kPortableKernelsVariable, "1", 1);
  } else {
    std::fprintf(stderr,
                 "NOTE: this CPU lacks AVX2/FMA: portable kernels cannot be pinned, so the "
                 "comparison uses the fallback tolerance (tests/README.md)\n");
  }
  const std::string binary = absl::GetFlag(FLAGS_binary);
  std::vector<std::string> args = {binary, "--config=" + absl::GetFlag(FLAGS_config),
                                   "--output_dir=" + out, "--store_root=" + store};
  std::vector<char*> child_argv;
  for (std::string& a : args) child_argv.push_back(a.data());
  child_argv.push_back(nullptr);
  std::fprintf(stderr, "running %s %s %s %s\n", args[0].c_str(), args[1].c_str(),
               args[2].c_str(), args[3].c_str());
  const pid_t pid = fork();
  if (pid == 0) {
    execv(binary.c_str(), child_argv.data());
    std::perror("execv");
    _exit(127);
  }
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return Fail("cannot start the experiment");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Fail(absl::StrCat("the experiment did not finish (status ", status, ")"));
  }
  auto got = robustness::ReadFileToString(out + "/results.json");
  if (!got.ok()) return Fail(std::string(got.status().message()));
  auto provenance = robustness::ReadFileToString(out + "/provenance.pbtxt");
  if (exact && (!provenance.ok() || !absl::StrContains(*provenance, "portable=yes"))) {
    return Fail("the experiment's provenance does not record portable kernels");
  }

  if (absl::GetFlag(FLAGS_update)) {
    const char* ws = std::getenv("BUILD_WORKSPACE_DIRECTORY");
    if (ws == nullptr) return Fail("--update needs bazel run (BUILD_WORKSPACE_DIRECTORY)");
    const std::string target = absl::StrCat(ws, "/", absl::GetFlag(FLAGS_golden_source));
    if (!exact) return Fail("refusing to write a golden file without portable kernels");
    // The store folder is this run's temporary one: keep machine paths out of the golden file
    // (model_dir is not compared).
    const std::string golden_text = absl::StrReplaceAll(*got, {{store + "/", "<store>/"}});
    absl::Status written = robustness::WriteFileAtomically(target, golden_text);
    if (!written.ok()) return Fail(std::string(written.message()));
    std::printf("updated %s (review with: git diff)\n", target.c_str());
    return 0;
  }

  auto golden = robustness::ReadFileToString(absl::GetFlag(FLAGS_golden));
  if (!golden.ok()) return Fail(std::string(golden.status().message()));
  const robustness::ResultTolerance tolerance =
      exact ? robustness::ResultTolerance::Exact() : robustness::ResultTolerance::Fallback();
  auto diffs = robustness::DiffResults(*got, *golden, tolerance);
  if (!diffs.ok()) return Fail(std::string(diffs.status().message()));
  for (const std::string& d : *diffs) std::fprintf(stderr, "  %s\n", d.c_str());
  if (!diffs->empty()) {
    return Fail(absl::StrCat(diffs->size(), " difference(s) from ", absl::GetFlag(FLAGS_golden),
                             exact ? " (exact comparison, portable kernels)" : " (fallback tolerance)",
                             ". If the change is meant to move the numbers: tools/update_golden.sh, "
                             "and commit the golden file with the reason"));
  }
  std::printf("OK: %s matches %s (%s)\n", args[1].c_str(), absl::GetFlag(FLAGS_golden).c_str(),
              exact ? "bitwise, portable kernels" : "fallback tolerance");
  return 0;
}
