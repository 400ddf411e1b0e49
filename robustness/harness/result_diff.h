// Compares two results.json files for CI regression (tests/README.md has the policy).
//
// Both are parsed as generic JSON; objects compare key by key, arrays element by element, in
// full. Timing keys (`seconds`, `images_per_second`, `train_seconds`, `eval_seconds`) and
// machine-local keys (`model_dir`, `reused`) are skipped. Everything else must be equal:
// exactly under ResultTolerance::Exact() (portable kernels in force), or within the fallback
// tolerance where bitwise equality is not reachable (no AVX2).
#ifndef ROBUSTNESS_HARNESS_RESULT_DIFF_H_
#define ROBUSTNESS_HARNESS_RESULT_DIFF_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace robustness {

struct ResultTolerance {
  bool exact = true;
  // Fallback only: percent points for keys ending in "accuracy", relative for keys containing
  // "loss", relative for every other number. Hashes are not compared in fallback.
  double accuracy_points = 0;
  double loss_relative = 0;
  double other_relative = 0;

  static ResultTolerance Exact() { return {}; }
  // The spread measured across kernel ISAs on the tiny configs (tests/README.md), with margin.
  static ResultTolerance Fallback() { return {false, 10.0, 0.05, 1e-3}; }
};

// Every difference as "<json path>: got <x>, golden <y>"; empty when the results agree.
// InvalidArgument when either text is not JSON.
absl::StatusOr<std::vector<std::string>> DiffResults(const std::string& got_json,
                                                     const std::string& golden_json,
                                                     const ResultTolerance& tolerance);

}  // namespace robustness

#endif  // ROBUSTNESS_HARNESS_RESULT_DIFF_H_
