// Test support: a task the trainer learns in a few epochs, for the training tests.
#ifndef ROBUSTNESS_TRAINING_TESTING_TOY_TASK_H_
#define ROBUSTNESS_TRAINING_TESTING_TOY_TASK_H_

#include <memory>

#include <ATen/ATen.h>
#include <torch/nn/modules/linear.h>

#include "robustness/datasets/in_memory_dataset.h"
#include "robustness/models/image_classifier.h"

namespace robustness::testing {

// A linear classifier on 1x4x4 images (no BatchNorm, no buffers).
class LinearModel : public ImageClassifierImpl {
 public:
  LinearModel() { fc_ = register_module("fc", torch::nn::Linear(16, 3)); }
  torch::Tensor forward(const torch::Tensor& images) override {
    return fc_->forward(images.flatten(1));
  }
  torch::nn::Linear fc_{nullptr};
};

// 96 images whose class decides which quarter of the image is bright: learnable in a few epochs.
inline std::shared_ptr<const Dataset> ToyDataset() {
  at::manual_seed(5);
  at::Tensor labels = at::randint(0, 3, {96}, at::kLong);
  at::Tensor images = at::randint(0, 60, {96, 1, 4, 4}, at::kByte);
  for (int64_t i = 0; i < 96; ++i) {
    const int64_t c = labels[i].item<int64_t>();
    images[i][0][c].fill_(250);
  }
  return std::make_shared<InMemoryDataset>(images, labels, 3);
}

}  // namespace robustness::testing

#endif  // ROBUSTNESS_TRAINING_TESTING_TOY_TASK_H_
