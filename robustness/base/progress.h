// Progress lines for long work (training epochs, attack sweeps): step, rate, ETA and whatever
// metrics the caller adds, at most once per `min_interval_seconds` and always on the last step.
//
//   ProgressLine progress("train ResNet", total_steps, "img");
//   progress.Update(step, images_done, absl::StrFormat("loss %.4f", loss));
//   -> "[train ResNet] 120/468 (25.6%) | 402.1 img/s | ETA 1m23s | loss 0.4213"
#ifndef ROBUSTNESS_BASE_PROGRESS_H_
#define ROBUSTNESS_BASE_PROGRESS_H_

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/strings/string_view.h"

namespace robustness {

// "1h02m03s", "4m05s", "12s".
std::string FormatDuration(double seconds);

class ProgressLine {
 public:
  // `total_steps` > 0. Lines go to `out` (stderr by default).
  ProgressLine(std::string name, int64_t total_steps, std::string unit,
               double min_interval_seconds = 5.0, std::FILE* out = stderr);

  // Reports that `steps_done` of the total are finished and `units_done` items processed since
  // construction. Prints when the interval has passed or the work is complete.
  void Update(int64_t steps_done, int64_t units_done, absl::string_view metrics = "");

  // The line Update would print now (for tests and logs).
  std::string Format(int64_t steps_done, int64_t units_done, absl::string_view metrics) const;

  double ElapsedSeconds() const;

 private:
  std::string name_;
  int64_t total_steps_;
  std::string unit_;
  double min_interval_seconds_;
  std::FILE* out_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_print_;
  bool printed_ = false;
};

}  // namespace robustness

#endif  // ROBUSTNESS_BASE_PROGRESS_H_
