// Optimisers of the paper's two recipes (PAPER.md 3.2 momentum SGD, 3.3 AdamW).
//
// Parameters are split in two groups, as timm's create_optimizer does when
// no_decay_on_1d_params is set: weight decay applies to weights of rank >= 2, and not to biases,
// norm scales/shifts, `pos_embed`, `cls_token` or `dist_token` (timm/DeiT no_weight_decay()). SGD's decay is L2 added to the gradient
// (PyTorch SGD); AdamW's is decoupled (Loshchilov & Hutter).
#ifndef ROBUSTNESS_TRAINING_OPTIMIZER_FACTORY_H_
#define ROBUSTNESS_TRAINING_OPTIMIZER_FACTORY_H_

#include <memory>

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "robustness/proto/optimizer.pb.h"

namespace robustness {

// peak_lr in (0, 10], weight_decay in [0, 1), momentum in [0, 1), betas in [0, 1), eps > 0.
absl::Status ValidateOptimizerConfig(const proto::OptimizerConfig& config);

// Validates, then builds the optimiser over `model`'s parameters. The learning rate is set by the
// trainer every step (SetLearningRate), so the initial value is peak_lr.
absl::StatusOr<std::unique_ptr<torch::optim::Optimizer>> CreateOptimizer(
    const proto::OptimizerConfig& config, torch::nn::Module& model);

// Sets the learning rate of every parameter group.
void SetLearningRate(torch::optim::Optimizer& optimizer, double lr);

// True for parameters exempt from weight decay when no_decay_on_1d_params is set: timm 0.3.2's
// rule (1-D, a ".bias", or pos_embed / cls_token); DeiT's dist_token is decayed, as in DeiT.
bool IsNoDecayParameter(const std::string& name, const torch::Tensor& parameter);

}  // namespace robustness

#endif  // ROBUSTNESS_TRAINING_OPTIMIZER_FACTORY_H_
