#include "robustness/datasets/internal/random_permutation.h"

#include <algorithm>
#include <numeric>
#include <vector>

#include "gtest/gtest.h"

namespace robustness {
namespace internal {
namespace {

TEST(RandomPermutationPrefix, FullPrefixIsAPermutation) {
  std::vector<int64_t> order = RandomPermutationPrefix(100, 100, 7);
  std::vector<int64_t> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> expected(100);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(sorted, expected);
  EXPECT_NE(order, expected);
}

TEST(RandomPermutationPrefix, DependsOnlyOnSeedAndIsAPrefix) {
  EXPECT_EQ(RandomPermutationPrefix(50, 50, 3), RandomPermutationPrefix(50, 50, 3));
  EXPECT_NE(RandomPermutationPrefix(50, 50, 3), RandomPermutationPrefix(50, 50, 4));
  std::vector<int64_t> full = RandomPermutationPrefix(50, 50, 3);
  std::vector<int64_t> prefix = RandomPermutationPrefix(50, 10, 3);
  EXPECT_EQ(prefix, std::vector<int64_t>(full.begin(), full.begin() + 10));
  EXPECT_TRUE(RandomPermutationPrefix(0, 0, 3).empty());
}

}  // namespace
}  // namespace internal
}  // namespace robustness
