#include "robustness/datasets/shared_batches.h"

#include <utility>

#include "glog/logging.h"

namespace robustness {

SharedBatches::SharedBatches(BatchLoader& loader, int uses,
                             std::function<absl::Status(Batch&)> on_load)
    : loader_(loader),
      uses_(uses),
      on_load_(std::move(on_load)),
      num_batches_(loader.num_batches()),
      batches_(num_batches_),
      uses_left_(num_batches_, uses) {
  CHECK_GE(uses_, 1);
}

absl::StatusOr<Batch> SharedBatches::Get(int64_t b) {
  CHECK(b >= 0 && b < num_batches_) << b;
  std::lock_guard<std::mutex> lock(mu_);
  while (error_.ok() && loaded_ <= b) {
    absl::StatusOr<Batch> next = loader_.Next();
    if (!next.ok()) {
      error_ = next.status();
      break;
    }
    if (on_load_) {
      absl::Status status = on_load_(*next);
      if (!status.ok()) {
        error_ = status;
        break;
      }
    }
    batches_[loaded_++] = *std::move(next);
  }
  if (!error_.ok()) return error_;
  CHECK_GT(uses_left_[b], 0) << "batch " << b << " was released";
  return batches_[b];
}

void SharedBatches::Release(int64_t b) {
  std::lock_guard<std::mutex> lock(mu_);
  CHECK_GT(uses_left_[b], 0) << "batch " << b << " released too often";
  if (--uses_left_[b] == 0) batches_[b] = Batch();
}

}  // namespace robustness
