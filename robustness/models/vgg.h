// VGG (Simonyan & Zisserman 2015) with torchvision's layout and parameter names, the feature
// network of the Texture Patch Attack's dictionary (PAPER.md 3.9; research/patch_attack.md
// section 1). VGG-19 is stage_convs {2, 2, 4, 4, 4}, stage_widths {64, 128, 256, 512, 512}:
// 143,667,240 parameters at 3 channels and 1000 classes, and a torchvision `vgg19` state dict
// ("features.0.weight" ... "classifier.6.bias") loads into it through robustness/weights.
//
// Layout: features = for each stage s, stage_convs[s] x (Conv2d 3x3 pad 1, ReLU), then
// MaxPool2d(2, 2); avgpool = AdaptiveAvgPool2d(pool_size); classifier = Linear(C*p*p, width),
// ReLU, Dropout, Linear(width, width), ReLU, Dropout, Linear(width, num_classes). Indices into
// `features` count every module (conv, relu, pool) as torchvision's do, so VGG-19's relu1_1 is
// features index 1, relu5_1 index 29, relu5_4 index 35.
//
// Contract: image_classifier.h (pixels in [0, 1], normalised inside). Any input side >= 2^stages works
// (each pool rounds down, as torchvision's); init is torchvision's (conv: Kaiming normal, fan_out, ReLU gain, bias 0;
// linear: N(0, 0.01), bias 0) from LibTorch's default CPU generator.
#ifndef ROBUSTNESS_MODELS_VGG_H_
#define ROBUSTNESS_MODELS_VGG_H_

#include <cstdint>
#include <vector>

#include <torch/arg.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "robustness/models/image_classifier.h"
#include "robustness/models/normalize.h"

namespace robustness {

// Ranges (CHECKed at construction; ValidateModelConfig reports them as Status first):
// num_classes, in_channels >= 1; stage_convs and stage_widths of equal, non-zero length, each
// entry >= 1; pool_size >= 1; classifier_width >= 1; dropout in [0, 1).
struct VGGOptions {
  VGGOptions(int64_t num_classes, int64_t in_channels);

  TORCH_ARG(int64_t, num_classes);
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(std::vector<int64_t>, stage_convs) = std::vector<int64_t>{2, 2, 4, 4, 4};
  TORCH_ARG(std::vector<int64_t>, stage_widths) = std::vector<int64_t>{64, 128, 256, 512, 512};
  TORCH_ARG(int64_t, pool_size) = 7;
  TORCH_ARG(int64_t, classifier_width) = 4096;
  TORCH_ARG(double, dropout) = 0.5;
  TORCH_ARG(NormalizeOptions, normalize) =
      NormalizeOptions(NormalizeOptions::ImageNetMean(), NormalizeOptions::ImageNetStd());
};

class VGGImpl : public ImageClassifierImpl {
 public:
  explicit VGGImpl(VGGOptions options);

  // Logits [N, num_classes] of images [N, in_channels, H, W] in [0, 1].
  torch::Tensor forward(const torch::Tensor& images) override;

  // The `features` indices of each stage's first ReLU (the Gatys style layers: VGG-19's
  // relu1_1 ... relu5_1 = 1, 6, 11, 20, 29) and of the last ReLU before the last pool (the
  // Grad-CAM layer: relu5_4 = 35).
  std::vector<int64_t> StyleLayers() const;
  int64_t CamLayer() const;

  // Normalises `images` and runs `features` up to max(layers), returning the output of each
  // listed index, in the order given. With `average_pool`, every MaxPool2d(2, 2) acts as a
  // 2x2 stride-2 average pool (the style extractor of research/patch_attack.md section 1).
  // Differentiable with respect to images.
  std::vector<torch::Tensor> FeatureMaps(const torch::Tensor& images,
                                         const std::vector<int64_t>& layers, bool average_pool);

  // Logits from the output of feature index `layer` (a ReLU of the last stage, e.g. CamLayer()),
  // running the rest of `features`, avgpool and the classifier: what Grad-CAM differentiates.
  torch::Tensor LogitsFrom(const torch::Tensor& activation, int64_t layer);

  const VGGOptions& options() const { return options_; }

 private:
  enum class Kind { kConv, kReLU, kPool };
  torch::Tensor RunLayer(int64_t index, const torch::Tensor& x, bool average_pool);
  torch::Tensor Head(const torch::Tensor& features_out);

  VGGOptions options_;
  Normalize normalize_{nullptr};
  torch::nn::Sequential features_{nullptr};
  torch::nn::Sequential classifier_{nullptr};
  std::vector<Kind> kinds_;
  std::vector<torch::nn::Conv2d> convs_;  // indexed by feature index (null where not a conv)
};

TORCH_MODULE(VGG);

}  // namespace robustness

#endif  // ROBUSTNESS_MODELS_VGG_H_
