#include "robustness/distributed/eval_shard.h"

#include <algorithm>

#include "glog/logging.h"

namespace robustness {

EvalShard ShardEvaluation(int64_t n, int64_t batch_size, int rank, int world) {
  CHECK_GE(n, 0);
  CHECK_GE(batch_size, 1);
  CHECK(world >= 1 && rank >= 0 && rank < world) << rank << " of " << world;
  EvalShard shard;
  const int64_t batches = (n + batch_size - 1) / batch_size;
  for (int64_t b = rank; b < batches; b += world) {
    shard.global_batch.push_back(b);
    for (int64_t i = b * batch_size; i < std::min(n, (b + 1) * batch_size); ++i) {
      shard.order.push_back(i);
    }
  }
  return shard;
}

}  // namespace robustness
