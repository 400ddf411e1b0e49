// DatasetConfig -> Dataset: the one place that switches on the config's `source` oneof
// (PAPER.md 3.1 data sets), range-checks the config before any file is touched, and applies the
// seeded subset.
#ifndef ROBUSTNESS_DATASETS_DATASET_FACTORY_H_
#define ROBUSTNESS_DATASETS_DATASET_FACTORY_H_

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "robustness/datasets/dataset.h"
#include "robustness/proto/dataset.pb.h"

namespace robustness {

// Checks `config` without touching the file system. InvalidArgument naming the field ("dataset."
// prefix) and the value when: no source is set; a path is unset or empty; num_classes is unset or
// < 1; subset_size is unset or < 0; subset_seed is unset while subset_size > 0.
// Example message: "dataset.idx.num_classes: must be >= 1, got 0".
absl::Status ValidateDatasetConfig(const proto::DatasetConfig& config);

// Validates `config`, loads the source (an IDX pair into memory, or an image folder listed for
// lazy decoding), and, when subset_size > 0, returns the seeded subset
// SubsetIndices(size, subset_size, subset_seed) of it. Errors: those of ValidateDatasetConfig,
// ReadIdxDataset and ImageFolderDataset::Open, and InvalidArgument naming subset_size and the data
// set's size when the subset is larger than the data set.
//
// Example:
//   ASSIGN_OR_RETURN(std::shared_ptr<const Dataset> test_set, CreateDataset(config.test_data()));
absl::StatusOr<std::shared_ptr<const Dataset>> CreateDataset(const proto::DatasetConfig& config);

}  // namespace robustness

#endif  // ROBUSTNESS_DATASETS_DATASET_FACTORY_H_
