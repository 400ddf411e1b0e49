// A BatchLoader's batches shared by worker threads (robustness/base/unit_workers.h) that process
// units of work in increasing order, several units per batch (one per radius, ...).
//
// Get(b) reads batches 0..b in order (the loader is sequential), runs `on_load` on each once,
// and returns b's batch (tensors are shared, not copied). A batch is dropped after `uses` calls
// to Release(b), so memory stays the batches in flight. Thread-safe.
#ifndef ROBUSTNESS_DATASETS_SHARED_BATCHES_H_
#define ROBUSTNESS_DATASETS_SHARED_BATCHES_H_

#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "absl/status/statusor.h"
#include "robustness/datasets/batch_loader.h"

namespace robustness {

class SharedBatches {
 public:
  // `loader` must outlive this and is only read through it; uses >= 1. on_load (may be empty)
  // may move the batch to a device or add to it; it runs under the lock, on the calling thread.
  SharedBatches(BatchLoader& loader, int uses, std::function<absl::Status(Batch&)> on_load);

  int64_t num_batches() const { return num_batches_; }

  // b in [0, num_batches()), not yet released `uses` times. Errors: the loader's or on_load's
  // (returned to every later caller too).
  absl::StatusOr<Batch> Get(int64_t b);
  void Release(int64_t b);

 private:
  BatchLoader& loader_;
  const int uses_;
  const std::function<absl::Status(Batch&)> on_load_;
  const int64_t num_batches_;
  std::mutex mu_;
  int64_t loaded_ = 0;
  absl::Status error_;
  std::vector<Batch> batches_;
  std::vector<int> uses_left_;
};

}  // namespace robustness

#endif  // ROBUSTNESS_DATASETS_SHARED_BATCHES_H_
