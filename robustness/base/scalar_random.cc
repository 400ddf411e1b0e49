#include "robustness/base/scalar_random.h"

#include <cmath>
#include <limits>

#include "glog/logging.h"

namespace robustness {

double ScalarRandom::Uniform() {
  return static_cast<double>(engine_() >> 11) * (1.0 / 9007199254740992.0);  // 2^-53
}

double ScalarRandom::Uniform(double low, double high) {
  CHECK_LE(low, high);
  return low + (high - low) * Uniform();
}

int64_t ScalarRandom::UniformInt(int64_t low, int64_t high) {
  CHECK_LE(low, high);
  const uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  if (range == std::numeric_limits<uint64_t>::max()) return static_cast<int64_t>(engine_());
  const uint64_t span = range + 1;
  // Reject the top partial block so every value is equally likely.
  const uint64_t limit = std::numeric_limits<uint64_t>::max() - std::numeric_limits<uint64_t>::max() % span;
  uint64_t x;
  do {
    x = engine_();
  } while (x >= limit);
  return low + static_cast<int64_t>(x % span);
}

double ScalarRandom::Gauss(double mean, double stddev) {
  CHECK_GE(stddev, 0.0);
  // Box-Muller; 1 - U is in (0, 1], so the log is finite.
  const double u1 = 1.0 - Uniform();
  const double u2 = Uniform();
  return mean + stddev * std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

}  // namespace robustness
