#include "robustness/training/model_ema.h"

#include <torch/torch.h>

#include "glog/logging.h"

namespace robustness {
namespace {

std::vector<torch::Tensor> Entries(const torch::nn::Module& model) {
  std::vector<torch::Tensor> out;
  for (const auto& p : model.named_parameters(/*recurse=*/true)) out.push_back(p.value());
  for (const auto& b : model.named_buffers(/*recurse=*/true)) out.push_back(b.value());
  return out;
}

}  // namespace

ModelEma::ModelEma(const torch::nn::Module& model, double decay) : decay_(decay) {
  CHECK_GT(decay, 0.0);
  CHECK_LT(decay, 1.0);
  torch::NoGradGuard no_grad;
  for (const torch::Tensor& t : Entries(model)) state_.push_back(t.detach().clone());
}

void ModelEma::Update(const torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  const std::vector<torch::Tensor> current = Entries(model);
  CHECK_EQ(current.size(), state_.size());
  for (size_t i = 0; i < state_.size(); ++i) {
    torch::Tensor& ema = state_[i];
    const torch::Tensor& value = current[i];
    CHECK_EQ(ema.sizes(), value.sizes());
    if (torch::isFloatingType(ema.scalar_type())) {
      ema.mul_(decay_).add_(value.detach(), 1.0 - decay_);
    } else {
      ema.copy_(ema.to(torch::kDouble) * decay_ + value.to(torch::kDouble) * (1.0 - decay_));
    }
  }
}

void ModelEma::CopyTo(torch::nn::Module& model) const {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> target = Entries(model);
  CHECK_EQ(target.size(), state_.size());
  for (size_t i = 0; i < state_.size(); ++i) target[i].copy_(state_[i]);
}

void ModelEma::set_state(const std::vector<torch::Tensor>& state) {
  CHECK_EQ(state.size(), state_.size());
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < state_.size(); ++i) {
    CHECK_EQ(state[i].sizes(), state_[i].sizes());
    state_[i].copy_(state[i]);
  }
}

}  // namespace robustness
