// The one interface every classifier in the zoo implements (ResNet, DeiT, later Hybrid-DeiT).
//
// Contract (all models): input float32 images in [0, 1], shape [N, C, H, W], on the module's
// device; normalisation (x - mean) / std happens inside forward(), so attacks and data pipelines
// work in pixel space (AutoAttack / RobustBench convention, PAPER.md 3.8). Output: logits
// [N, num_classes], float32.
//
// Implementations: ResNet (resnet.h) and DeiT (deit.h). Experiments build them from a
// proto::ModelConfig with CreateModel (model_factory.h), which validates the config first.
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
