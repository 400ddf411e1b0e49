#include "robustness/base/progress.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace robustness {

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const int64_t s = static_cast<int64_t>(std::llround(seconds));
  if (s >= 3600) return absl::StrFormat("%dh%02dm%02ds", s / 3600, (s / 60) % 60, s % 60);
  if (s >= 60) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%ds", s);
}

ProgressLine::ProgressLine(std::string name, int64_t total_steps, std::string unit,
                           double min_interval_seconds, std::FILE* out)
    : name_(std::move(name)),
      total_steps_(total_steps > 0 ? total_steps : 1),
      unit_(std::move(unit)),
      min_interval_seconds_(min_interval_seconds),
      out_(out),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

double ProgressLine::ElapsedSeconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string ProgressLine::Format(int64_t steps_done, int64_t units_done,
                                 absl::string_view metrics) const {
  const double elapsed = ElapsedSeconds();
  const double rate = elapsed > 0 ? units_done / elapsed : 0.0;
  const double fraction = static_cast<double>(steps_done) / total_steps_;
  const double eta = steps_done > 0 ? elapsed * (total_steps_ - steps_done) / steps_done : NAN;
  std::string line = absl::StrFormat("[%s] %d/%d (%.1f%%) | %.1f %s/s | ETA %s", name_, steps_done,
                                     total_steps_, 100.0 * fraction, rate, unit_,
                                     FormatDuration(eta));
  if (!metrics.empty()) absl::StrAppend(&line, " | ", metrics);
  return line;
}

void ProgressLine::Update(int64_t steps_done, int64_t units_done, absl::string_view metrics) {
  const auto now = std::chrono::steady_clock::now();
  const bool done = steps_done >= total_steps_;
  const double since = std::chrono::duration<double>(now - last_print_).count();
  if (!done && printed_ && since < min_interval_seconds_) return;
  if (!done && !printed_ && since < min_interval_seconds_ && steps_done > 1) return;
  std::fprintf(out_, "%s\n", Format(steps_done, units_done, metrics).c_str());
  std::fflush(out_);
  last_print_ = now;
  printed_ = true;
}

}  // namespace robustness
