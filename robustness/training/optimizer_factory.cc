#include "robustness/training/optimizer_factory.h"

#include <utility>
#include <vector>

#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace robustness {
namespace {

absl::Status OutOfRange(absl::string_view field, absl::string_view range, double value) {
  return absl::InvalidArgumentError(
      absl::StrCat("training.optimizer.", field, ": must be in ", range, ", got ", value));
}

}  // namespace

absl::Status ValidateOptimizerConfig(const proto::OptimizerConfig& c) {
  if (!(c.peak_lr() > 0 && c.peak_lr() <= 10)) return OutOfRange("peak_lr", "(0, 10]", c.peak_lr());
  if (!(c.weight_decay() >= 0 && c.weight_decay() < 1)) {
    return OutOfRange("weight_decay", "[0, 1)", c.weight_decay());
  }
  switch (c.optimizer_case()) {
    case proto::OptimizerConfig::kSgd:
      if (!(c.sgd().momentum() >= 0 && c.sgd().momentum() < 1)) {
        return OutOfRange("sgd.momentum", "[0, 1)", c.sgd().momentum());
      }
      if (c.sgd().nesterov() && c.sgd().momentum() == 0) {
        return absl::InvalidArgumentError(
            "training.optimizer.sgd.nesterov: Nesterov needs momentum > 0, got momentum 0");
      }
      return absl::OkStatus();
    case proto::OptimizerConfig::kAdamw:
      if (!(c.adamw().beta1() >= 0 && c.adamw().beta1() < 1)) {
        return OutOfRange("adamw.beta1", "[0, 1)", c.adamw().beta1());
      }
      if (!(c.adamw().beta2() >= 0 && c.adamw().beta2() < 1)) {
        return OutOfRange("adamw.beta2", "[0, 1)", c.adamw().beta2());
      }
      if (!(c.adamw().epsilon() > 0)) return OutOfRange("adamw.epsilon", "(0, inf)", c.adamw().epsilon());
      return absl::OkStatus();
    case proto::OptimizerConfig::OPTIMIZER_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("training.optimizer: one of sgd, adamw must be set");
}

bool IsNoDecayParameter(const std::string& name, const torch::Tensor& parameter) {
  // timm 0.3.2's add_weight_decay: 1-D, or ".bias", or in the ViT's no_weight_decay() set
  // {pos_embed, cls_token}. DeiT's distilled model does not add dist_token to that set, so
  // dist_token ([1, 1, D]) is decayed, as in DeiT (timm_recipes.md section 5).
  const absl::string_view leaf = name.substr(name.rfind('.') == std::string::npos
                                                 ? 0
                                                 : name.rfind('.') + 1);
  return parameter.dim() <= 1 || absl::EndsWith(name, ".bias") || leaf == "pos_embed" ||
         leaf == "cls_token";
}

absl::StatusOr<std::unique_ptr<torch::optim::Optimizer>> CreateOptimizer(
    const proto::OptimizerConfig& c, torch::nn::Module& model) {
  absl::Status status = ValidateOptimizerConfig(c);
  if (!status.ok()) return status;
  std::vector<torch::Tensor> decay, no_decay;
  for (const auto& item : model.named_parameters(/*recurse=*/true)) {
    if (!item.value().requires_grad()) continue;
    if (c.no_decay_on_1d_params() && IsNoDecayParameter(item.key(), item.value())) {
      no_decay.push_back(item.value());
    } else {
      decay.push_back(item.value());
    }
  }
  if (c.has_sgd()) {
    auto options = [&](double wd) {
      return std::make_unique<torch::optim::SGDOptions>(torch::optim::SGDOptions(c.peak_lr())
                                                            .momentum(c.sgd().momentum())
                                                            .nesterov(c.sgd().nesterov())
                                                            .weight_decay(wd));
    };
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(decay, options(c.weight_decay()));
    if (!no_decay.empty()) groups.emplace_back(no_decay, options(0.0));
    return std::unique_ptr<torch::optim::Optimizer>(
        new torch::optim::SGD(std::move(groups), torch::optim::SGDOptions(c.peak_lr())));
  }
  auto options = [&](double wd) {
    return std::make_unique<torch::optim::AdamWOptions>(
        torch::optim::AdamWOptions(c.peak_lr())
            .betas({c.adamw().beta1(), c.adamw().beta2()})
            .eps(c.adamw().epsilon())
            .weight_decay(wd));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, options(c.weight_decay()));
  if (!no_decay.empty()) groups.emplace_back(no_decay, options(0.0));
  return std::unique_ptr<torch::optim::Optimizer>(
      new torch::optim::AdamW(std::move(groups), torch::optim::AdamWOptions(c.peak_lr())));
}

void SetLearningRate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

}  // namespace robustness
