#include "robustness/datasets/batch_loader.h"

#include <algorithm>
#include <utility>

#include <ATen/ATen.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "robustness/base/seed.h"
#include "robustness/base/torch_status.h"
#include "robustness/datasets/internal/random_permutation.h"

namespace robustness {

std::vector<int64_t> EpochOrder(int64_t n, uint64_t seed, int64_t epoch) {
  CHECK_GE(n, 0);
  CHECK_GE(epoch, 0);
  return internal::RandomPermutationPrefix(
      n, n, DeriveSeed(seed, {kDataOrderStream, static_cast<uint64_t>(epoch)}));
}

uint64_t ImageSeed(uint64_t seed, int64_t dataset_index) {
  return DeriveSeed(seed, {static_cast<uint64_t>(dataset_index)});
}

BatchLoader::BatchLoader(std::shared_ptr<const Dataset> dataset, std::vector<int64_t> order,
                         int batch_size, ImageTransform transform, uint64_t seed, int num_threads,
                         bool drop_last, ImageSeedRule seed_rule, BatchShard shard)
    : dataset_(std::move(dataset)),
      order_(std::move(order)),
      batch_size_(batch_size),
      transform_(std::move(transform)),
      seed_(seed),
      seed_rule_(seed_rule),
      shard_(shard),
      num_batches_(drop_last ? static_cast<int64_t>(order_.size()) / std::max(batch_size, 1)
                             : (static_cast<int64_t>(order_.size()) + std::max(batch_size, 1) - 1) /
                                   std::max(batch_size, 1)),
      max_in_flight_(num_threads + 2) {
  CHECK(dataset_ != nullptr);
  CHECK_GE(batch_size_, 1);
  CHECK_GE(num_threads, 1);
  CHECK(shard_.world >= 1 && shard_.rank >= 0 && shard_.rank < shard_.world);
  CHECK(shard_.world == 1 || (drop_last && batch_size_ % shard_.world == 0))
      << "a sharded loader needs drop_last and a batch size divisible by the world size";
  for (int64_t index : order_) {
    CHECK_GE(index, 0);
    CHECK_LT(index, dataset_->size());
  }
  workers_.reserve(static_cast<size_t>(num_threads));
  for (int i = 0; i < num_threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

BatchLoader::~BatchLoader() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  for (std::thread& worker : workers_) worker.join();
}

bool BatchLoader::CanClaim() const {
  return stop_ || next_to_claim_ >= num_batches_ ||
         next_to_claim_ < next_to_return_ + max_in_flight_;
}

bool BatchLoader::NextIsReady() const { return ready_.count(next_to_return_) > 0; }

void BatchLoader::WorkerLoop() {
  while (true) {
    int64_t batch_index;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &BatchLoader::CanClaim));
      if (stop_ || next_to_claim_ >= num_batches_) return;
      batch_index = next_to_claim_++;
    }
    absl::StatusOr<Batch> batch = MakeBatch(batch_index);
    absl::MutexLock lock(&mu_);
    ready_.emplace(batch_index, std::move(batch));
  }
}

absl::StatusOr<Batch> BatchLoader::Next() {
  absl::MutexLock lock(&mu_);
  if (next_to_return_ >= num_batches_) {
    return absl::OutOfRangeError(absl::StrCat("all ", num_batches_, " batches have been returned"));
  }
  mu_.Await(absl::Condition(this, &BatchLoader::NextIsReady));
  auto node = ready_.extract(next_to_return_);
  ++next_to_return_;
  return std::move(node.mapped());
}

absl::StatusOr<Batch> BatchLoader::MakeBatch(int64_t batch_index) const {
  const int64_t part = batch_size_ / shard_.world;
  const int64_t begin = batch_index * batch_size_ + (shard_.world > 1 ? shard_.rank * part : 0);
  const int64_t end = std::min<int64_t>(begin + (shard_.world > 1 ? part : batch_size_),
                                        static_cast<int64_t>(order_.size()));
  Batch batch;
  batch.labels = at::empty({end - begin}, at::kLong);
  int64_t* labels = batch.labels.data_ptr<int64_t>();
  // Transforms are user code built on LibTorch: an exception becomes this batch's Status rather
  // than terminating the worker thread.
  absl::Status status = CallTorch(absl::StrCat("batch ", batch_index), [&]() -> absl::Status {
    for (int64_t p = begin; p < end; ++p) {
      const int64_t index = order_[static_cast<size_t>(p)];
      const int64_t key = seed_rule_ == ImageSeedRule::kPosition ? p : index;
      const uint64_t seed = ImageSeed(seed_, key);
      absl::StatusOr<at::Tensor> image;
      if (transform_.crop_first()) {
        // Only the transform's box is decoded (Dataset::ImageRegion).
        int64_t height = 0, width = 0;
        image = dataset_->ImageRegion(index, [&](int64_t h, int64_t w) {
          height = h;
          width = w;
          return transform_.Region(h, w, seed);
        });
        if (!image.ok()) return image.status();
        *image = transform_.ApplyToRegion(*image, height, width, seed);
      } else {
        image = dataset_->Image(index);
        if (!image.ok()) return image.status();
        if (transform_) *image = transform_(*image, seed);
      }
      if (!batch.images.defined()) {
        std::vector<int64_t> shape = {end - begin};
        for (int64_t d : image->sizes()) shape.push_back(d);
        batch.images = at::empty(shape, at::kFloat);
      } else if (image->sizes() != batch.images.sizes().slice(1)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "image of dataset example ", index, " has shape ", c10::str(image->sizes()),
            " but the batch's first image has ", c10::str(batch.images.sizes().slice(1)),
            "; use a transform that produces a fixed size"));
      }
      batch.images.select(0, p - begin).copy_(*image);
      labels[p - begin] = dataset_->Label(index);
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return batch;
}

}  // namespace robustness
