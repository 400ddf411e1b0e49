// tools/corrupt: a corrupted copy of a data set, ImageNet-C layout or Fashion-MNIST-C IDX.
//
//   bazel run //tools/corrupt -- --config=$PWD/tools/corrupt/fashion_mnist_c.pbtxt
//       --output_dir=$PWD/out/fashion_mnist_c
//   (one command line; a killed run picks up where it stopped when started again)
#include <cstdio>
#include <exception>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "robustness/base/process_setup.h"
#include "robustness/base/torch_status.h"
#include "robustness/config/run_paths.h"
#include "tools/corrupt/corrupt_tool.h"

ABSL_FLAG(std::string, config, "",
          "CorruptConfig text proto (tools/corrupt/corrupt_config.proto).");
ABSL_FLAG(std::string, set, "",
          "CorruptConfig text overriding fields of --config, e.g. 'max_images: 100'.");
ABSL_FLAG(std::string, output_dir, "", "Where the corrupted copy goes (created).");

int main(int argc, char** argv) {
  robustness::PrepareTensorProcess(argv);
  absl::SetProgramUsageMessage(
      "Writes a corrupted copy of a data set.\n  tools/corrupt --config=cfg.pbtxt "
      "[--set='...'] --output_dir=DIR");
  absl::ParseCommandLine(argc, argv);
  robustness::CorruptToolOptions options;
  options.config_path = absl::GetFlag(FLAGS_config);
  if (options.config_path.empty()) {
    std::fprintf(stderr, "error: --config is required (see --help)\n");
    return 2;
  }
  options.config_path = robustness::ResolveUserPath(options.config_path);
  options.set_fragment = absl::GetFlag(FLAGS_set);
  options.output_dir = robustness::ResolveUserPath(absl::GetFlag(FLAGS_output_dir));
  absl::StatusOr<robustness::CorruptSummary> summary;
  try {
    summary = robustness::RunCorruptTool(options);
  } catch (const std::exception& e) {
    summary = absl::InternalError(robustness::ExceptionSummary(e));
  }
  if (!summary.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(summary.status().message()).c_str());
    return 1;
  }
  std::printf("%lld pairs: %lld files written, %lld already there, %zu unreadable skipped "
              "(%.1f s)\n",
              static_cast<long long>(summary->pairs), static_cast<long long>(summary->files_written),
              static_cast<long long>(summary->files_resumed), summary->skipped.size(),
              summary->seconds);
  for (const std::string& s : summary->skipped) std::printf("  skipped %s\n", s.c_str());
  return 0;
}
