// Multi-threaded, deterministic mini-batches for training and evaluation (PAPER.md 3.2-3.3 train
// with batches of 256 shuffled, augmented images). Worker threads decode and transform whole
// batches ahead of the consumer; the content of every batch depends only on (dataset, order,
// batch_size, transform, seed), never on the number of threads or on timing.
#ifndef ROBUSTNESS_DATASETS_BATCH_LOADER_H_
#define ROBUSTNESS_DATASETS_BATCH_LOADER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include <torch/types.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "robustness/datasets/dataset.h"
#include "robustness/datasets/image_transform.h"

namespace robustness {

struct Batch {
  torch::Tensor images;  // float32 [B, C, H, W] in [0, 1], CPU.
  torch::Tensor labels;  // int64 [B], CPU.
};

// The order of epoch `epoch` (>= 0) over examples [0, n): a seeded Fisher-Yates shuffle driven by
// std::mt19937_64(DeriveSeed(seed, {kDataOrderStream, epoch})). Depends only on (n, seed, epoch)
// and is the same with every standard library (std::shuffle is not).
std::vector<int64_t> EpochOrder(int64_t n, uint64_t seed, int64_t epoch);

// The seed the loader passes to the transform for dataset example `dataset_index`:
// DeriveSeed(seed, {dataset_index}). Exposed so a single image can be reproduced outside a loader.
uint64_t ImageSeed(uint64_t seed, int64_t dataset_index);

// Iterates over `order` (dataset indices, each in [0, dataset->size()), CHECKed) in batches of
// `batch_size`: batch b holds examples order[b * batch_size ...], each image passed through
// `transform(image, ImageSeed(seed, index))` (an empty transform is the identity). A training
// loop makes one loader per epoch, with order = EpochOrder(n, run_seed, epoch) and a seed derived
// from (run seed, epoch), so augmentation differs between epochs and a resumed run repeats it.
//
// `num_threads` >= 1 workers (CHECKed) each build whole batches, at most num_threads + 2 batches
// ahead of Next(). `transform` is called concurrently and must be thread-safe. Every image in a
// batch must have the same shape after the transform. With `drop_last`, a final partial batch is
// skipped. The destructor stops and joins the workers (it may wait for batches in progress).
//
// Example:
//   BatchLoader loader(train, EpochOrder(train->size(), seed, epoch), 256, augment,
//                      DeriveSeed(seed, {kAugmentStream, epoch}), 4, /*drop_last=*/true);
//   while (true) {
//     absl::StatusOr<Batch> batch = loader.Next();
//     if (absl::IsOutOfRange(batch.status())) break;
//     RETURN_IF_ERROR(batch.status());
//     ...
//   }
// How the loader seeds each image's transform. kDatasetIndex: ImageSeed(seed, dataset index).
// kPosition: ImageSeed(seed, position in `order`), so an order that repeats an index (DeiT's
// repeated-augmentation sampler) gives each copy its own augmentation.
enum class ImageSeedRule { kDatasetIndex, kPosition };

// Data parallelism (robustness/distributed): process `rank` of `world` loads only its part of
// each global batch, positions [b B + rank B / W, b B + (rank + 1) B / W) of batch b (B the
// loader's batch_size, which W must divide), seeded exactly as the single-process loader seeds
// those positions, so the ranks' parts together are the single-process batch.
struct BatchShard {
  int rank = 0;
  int world = 1;
};

class BatchLoader {
 public:
  BatchLoader(std::shared_ptr<const Dataset> dataset, std::vector<int64_t> order, int batch_size,
              ImageTransform transform, uint64_t seed, int num_threads, bool drop_last,
              ImageSeedRule seed_rule = ImageSeedRule::kDatasetIndex, BatchShard shard = {});
  ~BatchLoader();

  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;

  // ceil(order.size() / batch_size), or floor with drop_last.
  int64_t num_batches() const { return num_batches_; }

  // The next batch, in order. Blocks until a worker has built it. OutOfRange once all
  // num_batches() were returned. A failure while building the batch (the dataset's Status, e.g.
  // DataLoss for a corrupt file; InvalidArgument when image shapes differ within the batch; a
  // LibTorch exception thrown by the transform, as Internal) is returned for that batch; later
  // calls continue with the following batches.
  absl::StatusOr<Batch> Next();

 private:
  void WorkerLoop();
  absl::StatusOr<Batch> MakeBatch(int64_t batch_index) const;
  bool CanClaim() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool NextIsReady() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::shared_ptr<const Dataset> dataset_;
  const std::vector<int64_t> order_;
  const int batch_size_;
  const ImageTransform transform_;
  const uint64_t seed_;
  const ImageSeedRule seed_rule_;
  const BatchShard shard_;
  const int64_t num_batches_;
  const int64_t max_in_flight_;

  mutable absl::Mutex mu_;
  int64_t next_to_claim_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t next_to_return_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::map<int64_t, absl::StatusOr<Batch>> ready_ ABSL_GUARDED_BY(mu_);

  std::vector<std::thread> workers_;
};

}  // namespace robustness

#endif  // ROBUSTNESS_DATASETS_BATCH_LOADER_H_
