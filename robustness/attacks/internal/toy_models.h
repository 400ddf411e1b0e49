// Test-only classifiers for the attack tests and benchmarks. All follow the ImageClassifier
// contract (float32 [N, C, H, W] in [0, 1] in, logits [N, K] out, normalisation inside).
#ifndef ROBUSTNESS_ATTACKS_INTERNAL_TOY_MODELS_H_
#define ROBUSTNESS_ATTACKS_INTERNAL_TOY_MODELS_H_

#include <cstdint>

#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include "robustness/models/image_classifier.h"

namespace robustness {
namespace attacks_internal {

// logits = W * flatten((x - 0.5) / 0.25) + b. CE is convex in x, so ascent provably raises it.
// Dropout (p = 0.5, active only in training) makes a forgotten eval() visible in tests.
class LinearClassifier : public ImageClassifierImpl {
 public:
  // Seeds LibTorch's global generator with `seed` to initialise the weights.
  LinearClassifier(int64_t in_features, int64_t num_classes, uint64_t seed);
  torch::Tensor forward(const torch::Tensor& images) override;
  torch::nn::Linear fc{nullptr};

 private:
  torch::nn::Dropout dropout_{nullptr};
};

// conv3x3(C->16)-BN-ReLU-maxpool2 -> conv3x3(16->32)-BN-ReLU-maxpool2 -> linear(32*H/4*W/4 -> K),
// normalisation (x - 0.286) / 0.353 inside. Same layers as tools/side_by_side/pgd_reference.py.
class SmallConvNet : public ImageClassifierImpl {
 public:
  SmallConvNet(int64_t channels, int64_t image_size, int64_t num_classes, uint64_t seed);
  torch::Tensor forward(const torch::Tensor& images) override;

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
  torch::nn::Linear fc_{nullptr};
};

// A scripted 3-class victim on images of at least 8 x 8 px: class 1 (logit 10) as soon as any
// value of the top-left 8 x 8 block is below 0.5, else class 0; class 2 never. Patch attacks
// fool it exactly when a dark patch touches that block.
class DarkCornerClassifier : public ImageClassifierImpl {
 public:
  torch::Tensor forward(const torch::Tensor& images) override;
};

}  // namespace attacks_internal
}  // namespace robustness

#endif  // ROBUSTNESS_ATTACKS_INTERNAL_TOY_MODELS_H_
