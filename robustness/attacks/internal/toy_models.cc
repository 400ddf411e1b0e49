#include "robustness/attacks/internal/toy_models.h"

#include <torch/types.h>

namespace robustness {
namespace attacks_internal {

LinearClassifier::LinearClassifier(int64_t in_features, int64_t num_classes, uint64_t seed) {
  torch::manual_seed(seed);
  fc = register_module("fc", torch::nn::Linear(in_features, num_classes));
  dropout_ = register_module("dropout", torch::nn::Dropout(0.5));
}

torch::Tensor LinearClassifier::forward(const torch::Tensor& images) {
  return fc(dropout_((images.flatten(1) - 0.5) / 0.25));
}

SmallConvNet::SmallConvNet(int64_t channels, int64_t image_size, int64_t num_classes,
                           uint64_t seed) {
  torch::manual_seed(seed);
  using torch::nn::Conv2dOptions;
  conv1_ = register_module("conv1", torch::nn::Conv2d(Conv2dOptions(channels, 16, 3).padding(1)));
  bn1_ = register_module("bn1", torch::nn::BatchNorm2d(16));
  conv2_ = register_module("conv2", torch::nn::Conv2d(Conv2dOptions(16, 32, 3).padding(1)));
  bn2_ = register_module("bn2", torch::nn::BatchNorm2d(32));
  const int64_t side = image_size / 4;
  fc_ = register_module("fc", torch::nn::Linear(32 * side * side, num_classes));
}

torch::Tensor SmallConvNet::forward(const torch::Tensor& images) {
  torch::Tensor h = (images - 0.286) / 0.353;
  h = torch::max_pool2d(torch::relu(bn1_(conv1_(h))), 2);
  h = torch::max_pool2d(torch::relu(bn2_(conv2_(h))), 2);
  return fc_(h.flatten(1));
}

torch::Tensor DarkCornerClassifier::forward(const torch::Tensor& images) {
  const torch::Tensor dark =
      (images.narrow(2, 0, 8).narrow(3, 0, 8) < 0.5).flatten(1).any(1).to(torch::kFloat);
  return torch::stack({1 - dark, dark, torch::zeros_like(dark)}, 1) * 10;
}

}  // namespace attacks_internal
}  // namespace robustness
