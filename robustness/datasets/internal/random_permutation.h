// Portable seeded permutations for data order and subsets. std::shuffle and
// std::uniform_int_distribution are implementation-defined (libstdc++ and libc++ give different
// orders for the same seed), so this file fixes both: std::mt19937_64 (fully specified by the
// standard) and a Fisher-Yates shuffle with rejection sampling for unbiased bounded integers.
#ifndef ROBUSTNESS_DATASETS_INTERNAL_RANDOM_PERMUTATION_H_
#define ROBUSTNESS_DATASETS_INTERNAL_RANDOM_PERMUTATION_H_

#include <cstdint>
#include <vector>

namespace robustness {
namespace internal {

// The first `k` entries of a uniformly random permutation of [0, n), drawn by the forward
// Fisher-Yates shuffle from std::mt19937_64(seed). 0 <= k <= n (CHECKed). For k == n this is the
// whole permutation; for k < n it is a uniform sample without replacement, in draw order. The
// result depends only on (n, k, seed), and the first k entries for a given (n, seed) do not depend
// on k.
std::vector<int64_t> RandomPermutationPrefix(int64_t n, int64_t k, uint64_t seed);

}  // namespace internal
}  // namespace robustness

#endif  // ROBUSTNESS_DATASETS_INTERNAL_RANDOM_PERMUTATION_H_
