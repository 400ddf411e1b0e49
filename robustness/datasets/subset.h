// Seeded random subsets (DatasetConfig.subset_size / subset_seed): e.g. the fixed 1000-image
// ImageNet validation subset the paper attacks (PAPER.md 3.4), identical on every run and machine.
#ifndef ROBUSTNESS_DATASETS_SUBSET_H_
#define ROBUSTNESS_DATASETS_SUBSET_H_

#include <cstdint>
#include <memory>
#include <vector>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "robustness/datasets/dataset.h"

namespace robustness {

// Indices of a seeded subset of [0, dataset_size). subset_size == 0 means all indices, in order;
// otherwise `subset_size` distinct indices drawn without replacement, returned sorted (so the
// subset keeps the data set's order). 0 <= subset_size <= dataset_size (CHECKed; configs are
// checked against the data set by CreateDataset first). Depends only on the three arguments and
// is portable across standard libraries (see internal/random_permutation.h).
//
// Example: SubsetIndices(50000, 1000, 0) -> 1000 sorted indices, the same on every machine.
std::vector<int64_t> SubsetIndices(int64_t dataset_size, int64_t subset_size, int64_t seed);

// A view of `base` restricted to `indices` (each in [0, base->size()), CHECKed; duplicates and any
// order allowed): example i of the view is example indices[i] of `base`. Shares `base`; thread-safe
// as `base` is.
class SubsetDataset : public Dataset {
 public:
  SubsetDataset(std::shared_ptr<const Dataset> base, std::vector<int64_t> indices);

  int64_t size() const override;
  int64_t num_classes() const override;
  absl::StatusOr<torch::Tensor> Image(int64_t index) const override;
  // The base's, so a subset keeps its base's partial decoding.
  absl::StatusOr<torch::Tensor> ImageRegion(int64_t index,
                                            const RegionChooser& choose) const override;
  int64_t Label(int64_t index) const override;

  const std::vector<int64_t>& indices() const { return indices_; }

 private:
  int64_t BaseIndex(int64_t index) const;

  std::shared_ptr<const Dataset> base_;
  std::vector<int64_t> indices_;
};

}  // namespace robustness

#endif  // ROBUSTNESS_DATASETS_SUBSET_H_
