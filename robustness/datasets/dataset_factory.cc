#include "robustness/datasets/dataset_factory.h"

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "robustness/base/status_macros.h"
#include "robustness/datasets/idx_reader.h"
#include "robustness/datasets/image_folder.h"
#include "robustness/datasets/in_memory_dataset.h"
#include "robustness/datasets/subset.h"

namespace robustness {
namespace {

absl::Status CheckPath(const std::string& field, bool has, const std::string& value) {
  if (!has || value.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": must be a non-empty path"));
  }
  return absl::OkStatus();
}

absl::Status CheckNumClasses(const std::string& field, bool has, int32_t value) {
  if (!has) return absl::InvalidArgumentError(absl::StrCat(field, ": must be set"));
  if (value < 1) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": must be >= 1, got ", value));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateDatasetConfig(const proto::DatasetConfig& config) {
  switch (config.source_case()) {
    case proto::DatasetConfig::kIdx: {
      const proto::IdxSource& idx = config.idx();
      RETURN_IF_ERROR(
          CheckPath("dataset.idx.images_path", idx.has_images_path(), idx.images_path()));
      RETURN_IF_ERROR(
          CheckPath("dataset.idx.labels_path", idx.has_labels_path(), idx.labels_path()));
      RETURN_IF_ERROR(
          CheckNumClasses("dataset.idx.num_classes", idx.has_num_classes(), idx.num_classes()));
      break;
    }
    case proto::DatasetConfig::kImageFolder: {
      const proto::ImageFolderSource& folder = config.image_folder();
      RETURN_IF_ERROR(CheckPath("dataset.image_folder.root", folder.has_root(), folder.root()));
      RETURN_IF_ERROR(CheckNumClasses("dataset.image_folder.num_classes", folder.has_num_classes(),
                                      folder.num_classes()));
      break;
    }
    case proto::DatasetConfig::SOURCE_NOT_SET:
      return absl::InvalidArgumentError("dataset.source: set one of idx, image_folder");
  }
  if (!config.has_subset_size()) {
    return absl::InvalidArgumentError("dataset.subset_size: must be set (0 = the whole set)");
  }
  if (config.subset_size() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("dataset.subset_size: must be >= 0, got ", config.subset_size()));
  }
  if (config.subset_size() > 0 && !config.has_subset_seed()) {
    return absl::InvalidArgumentError("dataset.subset_seed: must be set when subset_size > 0");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const Dataset>> CreateDataset(const proto::DatasetConfig& config) {
  RETURN_IF_ERROR(ValidateDatasetConfig(config));
  std::shared_ptr<const Dataset> dataset;
  if (config.has_idx()) {
    ASSIGN_OR_RETURN(InMemoryDataset loaded, ReadIdxDataset(config.idx()));
    dataset = std::make_shared<InMemoryDataset>(std::move(loaded));
  } else {
    ASSIGN_OR_RETURN(dataset, ImageFolderDataset::Open(config.image_folder()));
  }
  if (config.subset_size() == 0) return dataset;
  if (config.subset_size() > dataset->size()) {
    return absl::InvalidArgumentError(absl::StrCat("dataset.subset_size: ", config.subset_size(),
                                                   " exceeds the data set's size ",
                                                   dataset->size()));
  }
  std::vector<int64_t> indices =
      SubsetIndices(dataset->size(), config.subset_size(), config.subset_seed());
  return std::shared_ptr<const Dataset>(
      std::make_shared<SubsetDataset>(std::move(dataset), std::move(indices)));
}

}  // namespace robustness
