#include "robustness/datasets/image_folder.h"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "robustness/datasets/image_codec.h"

namespace robustness {
namespace {

namespace fs = std::filesystem;

bool HasImageExtension(const fs::path& path) {
  const std::string extension = absl::AsciiStrToLower(path.extension().string());
  return extension == ".png" || extension == ".jpg" || extension == ".jpeg";
}

}  // namespace

absl::StatusOr<std::unique_ptr<ImageFolderDataset>> ImageFolderDataset::Open(
    const proto::ImageFolderSource& source) {
  const fs::path root(source.root());
  std::error_code error;
  if (!fs::is_directory(root, error)) {
    return absl::NotFoundError(absl::StrCat("image folder root not found: ", source.root()));
  }
  std::vector<std::string> class_names;
  for (const fs::directory_entry& entry : fs::directory_iterator(root, error)) {
    if (entry.is_directory(error)) class_names.push_back(entry.path().filename().string());
  }
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("cannot list ", source.root(), ": ", error.message()));
  }
  if (class_names.empty()) {
    return absl::NotFoundError(absl::StrCat("no class sub-folders under ", source.root()));
  }
  if (static_cast<int64_t>(class_names.size()) != source.num_classes()) {
    return absl::InvalidArgumentError(absl::StrCat(source.root(), " has ", class_names.size(),
                                                   " class folders, but num_classes is ",
                                                   source.num_classes()));
  }
  std::sort(class_names.begin(), class_names.end());

  std::vector<std::string> paths;
  std::vector<int64_t> labels;
  for (size_t label = 0; label < class_names.size(); ++label) {
    const fs::path class_dir = root / class_names[label];
    std::vector<std::string> files;
    for (const fs::directory_entry& entry : fs::directory_iterator(class_dir, error)) {
      if (entry.is_regular_file(error) && HasImageExtension(entry.path())) {
        files.push_back(entry.path().string());
      }
    }
    if (error) {
      return absl::UnavailableError(
          absl::StrCat("cannot list ", class_dir.string(), ": ", error.message()));
    }
    if (files.empty()) {
      return absl::NotFoundError(
          absl::StrCat("class folder ", class_dir.string(), " has no .png/.jpg/.jpeg images"));
    }
    std::sort(files.begin(), files.end());
    for (std::string& file : files) {
      paths.push_back(std::move(file));
      labels.push_back(static_cast<int64_t>(label));
    }
  }
  return std::unique_ptr<ImageFolderDataset>(
      new ImageFolderDataset(std::move(class_names), std::move(paths), std::move(labels)));
}

ImageFolderDataset::ImageFolderDataset(std::vector<std::string> class_names,
                                       std::vector<std::string> paths, std::vector<int64_t> labels)
    : class_names_(std::move(class_names)), paths_(std::move(paths)), labels_(std::move(labels)) {}

int64_t ImageFolderDataset::size() const { return static_cast<int64_t>(paths_.size()); }

int64_t ImageFolderDataset::num_classes() const {
  return static_cast<int64_t>(class_names_.size());
}

absl::StatusOr<torch::Tensor> ImageFolderDataset::Image(int64_t index) const {
  return DecodeImageFile(path(index));
}

absl::StatusOr<torch::Tensor> ImageFolderDataset::ImageRegion(int64_t index,
                                                              const RegionChooser& choose) const {
  return DecodeImageFileRegion(path(index), choose);
}

int64_t ImageFolderDataset::Label(int64_t index) const {
  CHECK_GE(index, 0);
  CHECK_LT(index, size());
  return labels_[static_cast<size_t>(index)];
}

const std::string& ImageFolderDataset::path(int64_t index) const {
  CHECK_GE(index, 0);
  CHECK_LT(index, size());
  return paths_[static_cast<size_t>(index)];
}

}  // namespace robustness
