#include "robustness/datasets/in_memory_dataset.h"

#include <utility>

#include <ATen/ATen.h>

#include "glog/logging.h"

namespace robustness {

InMemoryDataset::InMemoryDataset(torch::Tensor images, torch::Tensor labels, int64_t num_classes)
    : images_(images.cpu().contiguous()),
      labels_(labels.cpu().contiguous()),
      num_classes_(num_classes) {
  CHECK_EQ(images_.dim(), 4) << "images must be [N, C, H, W], got " << images_.sizes();
  CHECK(images_.scalar_type() == at::kByte)
      << "images must be uint8, got " << images_.scalar_type();
  CHECK_EQ(labels_.dim(), 1) << "labels must be [N], got " << labels_.sizes();
  CHECK(labels_.scalar_type() == at::kLong)
      << "labels must be int64, got " << labels_.scalar_type();
  CHECK_EQ(labels_.size(0), images_.size(0)) << "images and labels disagree on N";
  CHECK_GE(num_classes_, 1);
  if (labels_.numel() > 0) {
    CHECK_GE(labels_.min().item<int64_t>(), 0);
    CHECK_LT(labels_.max().item<int64_t>(), num_classes_);
  }
}

int64_t InMemoryDataset::size() const { return images_.size(0); }

int64_t InMemoryDataset::num_classes() const { return num_classes_; }

absl::StatusOr<torch::Tensor> InMemoryDataset::Image(int64_t index) const {
  CHECK_GE(index, 0);
  CHECK_LT(index, size());
  return images_.select(0, index).to(at::kFloat).div_(255.0);
}

int64_t InMemoryDataset::Label(int64_t index) const {
  CHECK_GE(index, 0);
  CHECK_LT(index, size());
  return labels_.data_ptr<int64_t>()[index];
}

}  // namespace robustness
