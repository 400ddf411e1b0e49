#include "robustness/distributed/eval_shard.h"

#include <algorithm>

#include "gtest/gtest.h"

namespace robustness {
namespace {

// The ranks' shards are disjoint, cover every image once, and keep the single-process batches.
TEST(ShardEvaluation, TheRanksTogetherAreTheSingleProcessBatches) {
  for (int world : {1, 2, 3, 8}) {
    for (int64_t n : {0, 1, 7, 10, 64, 65}) {
      std::vector<int> seen(static_cast<size_t>(n), 0);
      for (int rank = 0; rank < world; ++rank) {
        const EvalShard shard = ShardEvaluation(n, 8, rank, world);
        size_t p = 0;
        for (int64_t b : shard.global_batch) {
          EXPECT_EQ(b % world, rank);
          for (int64_t i = b * 8; i < std::min<int64_t>(n, (b + 1) * 8); ++i, ++p) {
            ASSERT_LT(p, shard.order.size());
            EXPECT_EQ(shard.order[p], i);
            ++seen[static_cast<size_t>(i)];
          }
        }
        EXPECT_EQ(p, shard.order.size());
      }
      for (int64_t i = 0; i < n; ++i) EXPECT_EQ(seen[static_cast<size_t>(i)], 1) << i;
    }
  }
}

}  // namespace
}  // namespace robustness
