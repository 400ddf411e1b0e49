#include "robustness/datasets/internal/random_permutation.h"

#include <limits>
#include <numeric>
#include <random>
#include <utility>

#include "glog/logging.h"

namespace robustness {
namespace internal {
namespace {

// Uniform in [0, bound), bound >= 1: rejects the top partial block of 2^64 so every value is
// equally likely (Lemire's reduction would also do; this is the simplest portable form).
uint64_t UniformBelow(std::mt19937_64& engine, uint64_t bound) {
  const uint64_t limit =
      std::numeric_limits<uint64_t>::max() - std::numeric_limits<uint64_t>::max() % bound;
  uint64_t x;
  do {
    x = engine();
  } while (x >= limit);
  return x % bound;
}

}  // namespace

std::vector<int64_t> RandomPermutationPrefix(int64_t n, int64_t k, uint64_t seed) {
  CHECK_GE(k, 0);
  CHECK_LE(k, n);
  std::vector<int64_t> values(static_cast<size_t>(n));
  std::iota(values.begin(), values.end(), int64_t{0});
  std::mt19937_64 engine(seed);
  for (int64_t i = 0; i < k; ++i) {
    const int64_t j = i + static_cast<int64_t>(UniformBelow(engine, static_cast<uint64_t>(n - i)));
    std::swap(values[i], values[j]);
  }
  values.resize(static_cast<size_t>(k));
  return values;
}

}  // namespace internal
}  // namespace robustness
