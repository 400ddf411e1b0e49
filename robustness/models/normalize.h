// Per-channel input normalisation inside a model (PAPER.md 3.1): every classifier in the zoo takes
// pixels in [0, 1] and applies (x - mean) / std as its first step, so attacks and data pipelines
// work in pixel space. Clean/OOD models use the ImageNet statistics; adversarially trained models
// use mean = std = 0.5 (inputs then lie in [-1, 1]).
#ifndef ROBUSTNESS_MODELS_NORMALIZE_H_
#define ROBUSTNESS_MODELS_NORMALIZE_H_

#include <vector>

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace robustness {

// Options for Normalize. `mean` and `std` have one entry per input channel; every std is > 0
// (CHECKed at construction; configs are range-checked before, by ValidateModelConfig).
//
// Example: NormalizeOptions(NormalizeOptions::ImageNetMean(), NormalizeOptions::ImageNetStd())
struct NormalizeOptions {
  NormalizeOptions(std::vector<double> mean, std::vector<double> std);

  // ImageNet RGB statistics (0.485, 0.456, 0.406) / (0.229, 0.224, 0.225).
  static std::vector<double> ImageNetMean();
  static std::vector<double> ImageNetStd();

  TORCH_ARG(std::vector<double>, mean);
  TORCH_ARG(std::vector<double>, std);
};

// forward(images): images float32 [N, C, H, W] with C == mean().size(), in [0, 1] (not checked);
// returns (images - mean) / std, same shape and dtype. Differentiable with respect to images.
// The statistics are registered buffers "mean" and "std", each [1, C, 1, 1]: they follow .to()
// and are saved with the model, but are not parameters (not trained, not counted).
class NormalizeImpl : public torch::nn::Cloneable<NormalizeImpl> {
 public:
  explicit NormalizeImpl(NormalizeOptions options);

  void reset() override;
  void pretty_print(std::ostream& stream) const override;
  torch::Tensor forward(const torch::Tensor& images);

  NormalizeOptions options;

 private:
  torch::Tensor mean_;
  torch::Tensor std_;
};

TORCH_MODULE(Normalize);

}  // namespace robustness

#endif  // ROBUSTNESS_MODELS_NORMALIZE_H_
