// Evaluation sharded by batch over the ranks of a World (world.h): batch b of the single-process
// order (images [b B, min((b + 1) B, n))) is evaluated by rank b mod W, with the seeds of batch b,
// so every image gets the outcome it gets in one process; the counts (or per-image outcomes) are
// then summed (gathered) over the ranks.
#ifndef ROBUSTNESS_DISTRIBUTED_EVAL_SHARD_H_
#define ROBUSTNESS_DISTRIBUTED_EVAL_SHARD_H_

#include <cstdint>
#include <vector>

namespace robustness {

struct EvalShard {
  std::vector<int64_t> order;         // this rank's image indices, its batches back to back
  std::vector<int64_t> global_batch;  // global_batch[local batch] = b
};

// n >= 0 images, batch_size >= 1, 0 <= rank < world (CHECKed).
EvalShard ShardEvaluation(int64_t n, int64_t batch_size, int rank, int world);

}  // namespace robustness

#endif  // ROBUSTNESS_DISTRIBUTED_EVAL_SHARD_H_
