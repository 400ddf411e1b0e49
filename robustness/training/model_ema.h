// Model EMA as timm 0.3.2's ModelEma (v1), which DeiT and the paper keep (decay 0.99996, updated
// after every optimiser step) but never evaluate (timm_recipes.md section 8).
#ifndef ROBUSTNESS_TRAINING_MODEL_EMA_H_
#define ROBUSTNESS_TRAINING_MODEL_EMA_H_

#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

namespace robustness {

// The averaged copy of every parameter and buffer of a model (recursive, parameters then
// buffers, in module order), on the model's device.
class ModelEma {
 public:
  // Starts from a copy of `model`'s current state. decay in (0, 1), CHECKed.
  ModelEma(const torch::nn::Module& model, double decay);

  // ema <- decay * ema + (1 - decay) * model for every entry. Integer buffers (BatchNorm's
  // num_batches_tracked) are averaged in float64 and truncated, as timm's copy_ into an int
  // tensor does. No warm-up, no bias correction. CHECKs the model has the same structure.
  void Update(const torch::nn::Module& model);

  // Writes the EMA into `model`'s parameters and buffers (evaluation of the EMA).
  void CopyTo(torch::nn::Module& model) const;

  // The averaged tensors (for checkpoints) and their restoration (same count and shapes,
  // CHECKed).
  const std::vector<torch::Tensor>& state() const { return state_; }
  void set_state(const std::vector<torch::Tensor>& state);

 private:
  double decay_;
  std::vector<torch::Tensor> state_;
};

}  // namespace robustness

#endif  // ROBUSTNESS_TRAINING_MODEL_EMA_H_
