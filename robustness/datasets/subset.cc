#include "robustness/datasets/subset.h"

#include <algorithm>
#include <numeric>
#include <utility>

#include "glog/logging.h"
#include "robustness/base/seed.h"
#include "robustness/datasets/internal/random_permutation.h"

namespace robustness {

std::vector<int64_t> SubsetIndices(int64_t dataset_size, int64_t subset_size, int64_t seed) {
  CHECK_GE(dataset_size, 0);
  CHECK_GE(subset_size, 0);
  CHECK_LE(subset_size, dataset_size) << "subset larger than the data set";
  if (subset_size == 0) {
    std::vector<int64_t> all(static_cast<size_t>(dataset_size));
    std::iota(all.begin(), all.end(), int64_t{0});
    return all;
  }
  std::vector<int64_t> indices = internal::RandomPermutationPrefix(
      dataset_size, subset_size, DeriveSeed(static_cast<uint64_t>(seed), {kSubsetStream}));
  std::sort(indices.begin(), indices.end());
  return indices;
}

SubsetDataset::SubsetDataset(std::shared_ptr<const Dataset> base, std::vector<int64_t> indices)
    : base_(std::move(base)), indices_(std::move(indices)) {
  CHECK(base_ != nullptr);
  for (int64_t i : indices_) {
    CHECK_GE(i, 0);
    CHECK_LT(i, base_->size());
  }
}

int64_t SubsetDataset::size() const { return static_cast<int64_t>(indices_.size()); }

int64_t SubsetDataset::num_classes() const { return base_->num_classes(); }

absl::StatusOr<torch::Tensor> SubsetDataset::Image(int64_t index) const {
  return base_->Image(BaseIndex(index));
}

absl::StatusOr<torch::Tensor> SubsetDataset::ImageRegion(int64_t index,
                                                         const RegionChooser& choose) const {
  return base_->ImageRegion(BaseIndex(index), choose);
}

int64_t SubsetDataset::Label(int64_t index) const { return base_->Label(BaseIndex(index)); }

int64_t SubsetDataset::BaseIndex(int64_t index) const {
  CHECK_GE(index, 0);
  CHECK_LT(index, size());
  return indices_[static_cast<size_t>(index)];
}

}  // namespace robustness
