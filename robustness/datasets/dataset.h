// The one interface every image source implements (PAPER.md 3.1 data sets): Fashion-MNIST from IDX
// files, ImageNet-layout folders (ImageNet, ImageNet-C, Stylized-ImageNet, ...), and views over
// them (subsets). Images are float32 [C, H, W] in [0, 1]; normalisation lives inside the model
// (robustness/models/normalize.h). Labels are class indices in [0, num_classes()).
#ifndef ROBUSTNESS_DATASETS_DATASET_H_
#define ROBUSTNESS_DATASETS_DATASET_H_

#include <cstdint>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "robustness/datasets/pixel_box.h"

namespace robustness {

// Thread-safety: every const method may be called concurrently from many threads (the batch
// loader's workers do); implementations keep no unsynchronised mutable state.
// `image` (float32 [C, H, W] in [0, 1]) inside `box` (CHECKed inside), as uint8 round(255 x):
// what Dataset::ImageRegion returns for a decoded image.
torch::Tensor QuantizedRegion(const torch::Tensor& image, const PixelBox& box);

class Dataset {
 public:
  virtual ~Dataset() = default;

  // Number of examples, >= 0.
  virtual int64_t size() const = 0;

  // Number of classes, >= 1. Every Label() lies in [0, num_classes()).
  virtual int64_t num_classes() const = 0;

  // Example `index` in [0, size()) (CHECKed): float32 [C, H, W] in [0, 1], CPU, a fresh tensor the
  // caller may modify. Fails (e.g. DataLoss naming the file) when a lazily decoded image is
  // corrupt or unreadable.
  virtual absl::StatusOr<torch::Tensor> Image(int64_t index) const = 0;

  // Example `index` cut to the box `choose(H, W)` (H x W the image's size; a box outside it is a
  // CHECK failure) as uint8 [C, h, w], value = round(255 x) of Image()'s: the input of crop-first
  // transforms (ImageTransform::CropFirst, RandomResizedCrop). The default decodes Image() whole
  // and cuts it; sources that can decode part of an image (ImageFolderDataset's JPEGs) override it
  // and must return the same values. Errors as Image().
  virtual absl::StatusOr<torch::Tensor> ImageRegion(int64_t index,
                                                    const RegionChooser& choose) const;

  // Class of example `index` in [0, size()) (CHECKed), in [0, num_classes()).
  virtual int64_t Label(int64_t index) const = 0;
};

}  // namespace robustness

#endif  // ROBUSTNESS_DATASETS_DATASET_H_
