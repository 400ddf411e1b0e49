// A data set held entirely in memory as uint8 pixels (Fashion-MNIST: 60000 x 28 x 28 = 47 MB), so
// that a float copy (4x larger) is made only per image, on demand.
#ifndef ROBUSTNESS_DATASETS_IN_MEMORY_DATASET_H_
#define ROBUSTNESS_DATASETS_IN_MEMORY_DATASET_H_

#include <cstdint>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "robustness/datasets/dataset.h"

namespace robustness {

// Example:
//   InMemoryDataset ds(torch::zeros({2, 1, 28, 28}, torch::kUInt8), torch::tensor({0, 9}), 10);
//   ds.Image(1);  // float32 [1, 28, 28], all 0.
class InMemoryDataset : public Dataset {
 public:
  // `images`: uint8 [N, C, H, W]; `labels`: int64 [N] with values in [0, num_classes);
  // `num_classes` >= 1. Shapes, dtypes and label range are CHECKed (callers that read user data,
  // e.g. ReadIdxDataset, validate it first and return a Status). Both tensors are made contiguous
  // CPU tensors; no pixel copy is made when they already are.
  InMemoryDataset(torch::Tensor images, torch::Tensor labels, int64_t num_classes);

  int64_t size() const override;
  int64_t num_classes() const override;
  // images[index] / 255 as float32 [C, H, W] in [0, 1]. Never fails.
  absl::StatusOr<torch::Tensor> Image(int64_t index) const override;
  int64_t Label(int64_t index) const override;

  // uint8 [N, C, H, W] and int64 [N], as given.
  const torch::Tensor& images() const { return images_; }
  const torch::Tensor& labels() const { return labels_; }

 private:
  torch::Tensor images_;
  torch::Tensor labels_;
  int64_t num_classes_;
};

}  // namespace robustness

#endif  // ROBUSTNESS_DATASETS_IN_MEMORY_DATASET_H_
