// ImageNet-layout folders (PAPER.md 3.1: ImageNet, ImageNet-C, Stylized-ImageNet, ImageNet-A,
// ImageNet-Sketch): root/<class>/<image>.{png,jpg,jpeg} (any case of those extensions), read as
// torchvision's ImageFolder reads them: classes are the sub-folder names in sorted byte order
// (label i = i-th class), files are sorted by name within a class, examples are ordered class by
// class. Files with other extensions are ignored. Images are decoded lazily, on each Image() call.
#ifndef ROBUSTNESS_DATASETS_IMAGE_FOLDER_H_
#define ROBUSTNESS_DATASETS_IMAGE_FOLDER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "robustness/datasets/dataset.h"
#include "robustness/proto/dataset.pb.h"

namespace robustness {

class ImageFolderDataset : public Dataset {
 public:
  // Lists the folder (no image is decoded here). Errors:
  //   NotFound         `source.root` does not exist or is not a folder; no class sub-folders;
  //                    a class folder without images (names the folder);
  //   InvalidArgument  the number of class folders differs from `source.num_classes`.
  //
  // Example: ASSIGN_OR_RETURN(auto val, ImageFolderDataset::Open(source));  // source.root =
  //          "/data/imagenet/val", num_classes = 1000.
  static absl::StatusOr<std::unique_ptr<ImageFolderDataset>> Open(
      const proto::ImageFolderSource& source);

  int64_t size() const override;
  int64_t num_classes() const override;
  // Decodes file `index`: float32 [3, H, W] in [0, 1] (grayscale is replicated, alpha dropped;
  // see image_codec.h). H and W vary between files. DataLoss naming the path if the file is
  // corrupt or truncated; NotFound if it was removed after Open.
  absl::StatusOr<torch::Tensor> Image(int64_t index) const override;
  // DecodeImageFileRegion: a JPEG is decoded only around the box (image_codec.h).
  absl::StatusOr<torch::Tensor> ImageRegion(int64_t index,
                                            const RegionChooser& choose) const override;
  int64_t Label(int64_t index) const override;

  // Sorted class (sub-folder) names; class_names()[label] is the folder of `label`.
  const std::vector<std::string>& class_names() const { return class_names_; }
  // Full path of example `index`.
  const std::string& path(int64_t index) const;

 private:
  ImageFolderDataset(std::vector<std::string> class_names, std::vector<std::string> paths,
                     std::vector<int64_t> labels);

  std::vector<std::string> class_names_;
  std::vector<std::string> paths_;
  std::vector<int64_t> labels_;
};

}  // namespace robustness

#endif  // ROBUSTNESS_DATASETS_IMAGE_FOLDER_H_
