// Portable scalar random draws for per-image augmentation (RandAugment, Random Erasing,
// ColorJitter): the same seed gives the same numbers with every compiler and standard library
// (std::*_distribution does not promise that), and each draw costs nanoseconds, not a tensor op.
//
// The stream is std::mt19937_64 (fully specified by the C++ standard); the distributions are our
// own: Uniform() = the top 53 bits / 2^53, UniformInt by rejection (unbiased), Gauss by the
// Box-Muller transform (two uniforms per draw, no cached second value).
#ifndef ROBUSTNESS_BASE_SCALAR_RANDOM_H_
#define ROBUSTNESS_BASE_SCALAR_RANDOM_H_

#include <cstdint>
#include <random>

namespace robustness {

class ScalarRandom {
 public:
  explicit ScalarRandom(uint64_t seed) : engine_(seed) {}

  // U[0, 1).
  double Uniform();
  // U[low, high). Requires low <= high (CHECKed); low == high returns low.
  double Uniform(double low, double high);
  // Uniform integer in [low, high] inclusive (Python's random.randint). CHECKs low <= high.
  int64_t UniformInt(int64_t low, int64_t high);
  // N(mean, stddev^2), stddev >= 0 (CHECKed).
  double Gauss(double mean, double stddev);

 private:
  std::mt19937_64 engine_;
};

}  // namespace robustness

#endif  // ROBUSTNESS_BASE_SCALAR_RANDOM_H_
