// The one interface every classifier in the zoo implements (ResNet, DeiT, Hybrid-DeiT).
//
// Contract (all models): input float32 images in [0, 1], shape [N, C, H, W], on the module's
// device; normalisation (x - mean) / std happens inside forward(), so attacks and data pipelines
// work in pixel space (AutoAttack / RobustBench convention, PAPER.md 3.8). Output: logits
// [N, num_classes], float32.
//
// Implementations:
//   ResNet (resnet.h): torchvision ResNets, with BatchNorm2d or GhostBatchNorm2d
//     (ghost_batch_norm.h).
//   DeiT (deit.h): timm 0.3.2 DeiTs, optionally with stochastic depth and a distillation token
//     (then forward() averages the two heads; DeiTImpl::forward_heads returns both), and
//     Hybrid-DeiT (DeiTOptions::hybrid_backbone: a ResNetTrunk in place of the patch conv).
// Experiments build them from a proto::ModelConfig with CreateModel (model_factory.h), which
// validates the config first.
#ifndef ROBUSTNESS_MODELS_IMAGE_CLASSIFIER_H_
#define ROBUSTNESS_MODELS_IMAGE_CLASSIFIER_H_

#include <memory>

#include <torch/nn/module.h>
#include <torch/types.h>

namespace robustness {

class ImageClassifierImpl : public torch::nn::Module {
 public:
  ~ImageClassifierImpl() override = default;
  virtual torch::Tensor forward(const torch::Tensor& images) = 0;
};

using ImageClassifier = std::shared_ptr<ImageClassifierImpl>;

}  // namespace robustness

#endif  // ROBUSTNESS_MODELS_IMAGE_CLASSIFIER_H_
