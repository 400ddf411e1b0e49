// tools/corrupt: writes a corrupted copy of a data set (ood_suite.md 1.0 layouts):
//   IDX input  -> <out>/<corruption>/<severity>/{images-idx3-ubyte.gz, labels-idx1-ubyte.gz}
//   folder     -> <out>/<corruption>/<severity>/<class>/<stem>.png | .JPEG (quality 85)
// Multi-threaded (images split across `threads` workers; each image's draws are its own, so the
// output does not depend on the thread count), with a progress line (rate, ETA). Every output
// file is written atomically (temp + rename), so after a kill the run resumes where it stopped:
// files that exist are complete and are skipped. An unreadable input image stops the run or is
// skipped and listed (skipped.txt, the summary), as configured.
#ifndef TOOLS_CORRUPT_CORRUPT_TOOL_H_
#define TOOLS_CORRUPT_CORRUPT_TOOL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/corrupt/corrupt_config.pb.h"

namespace robustness {

struct CorruptToolOptions {
  std::string config_path;
  std::string set_fragment;  // CorruptConfig text overriding fields of the config
  std::string output_dir;
};

struct CorruptSummary {
  int64_t pairs = 0;            // (corruption, severity) pairs selected
  int64_t files_written = 0;    // output files written by this run
  int64_t files_resumed = 0;    // output files already there (an earlier, interrupted run)
  std::vector<std::string> skipped;  // unreadable inputs (SKIP policy), with the reason
  double seconds = 0.0;
};

// Validates the config (errors name file:line and field), then corrupts. NotFound for missing
// inputs or frost images; DataLoss naming the file for an unreadable image under FAIL.
absl::StatusOr<CorruptSummary> RunCorruptTool(const CorruptToolOptions& options);

// Validation alone (config tests): every field set, names known, severities 1..5, threads >= 1,
// the output format fits the input.
absl::Status ValidateCorruptConfig(const tools::CorruptConfig& config);

}  // namespace robustness

#endif  // TOOLS_CORRUPT_CORRUPT_TOOL_H_
