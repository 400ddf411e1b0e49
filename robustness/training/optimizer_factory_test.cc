#include "robustness/training/optimizer_factory.h"

#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/optim/sgd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/status_matchers.h"
#include "robustness/config/parse_text_proto.h"

namespace robustness {
namespace {

using ::testing::HasSubstr;

struct TinyNet : torch::nn::Module {
  TinyNet() {
    fc = register_module("fc", torch::nn::Linear(4, 3));
    norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({3})));
    pos_embed = register_parameter("pos_embed", torch::zeros({1, 2, 3}));
    dist_token = register_parameter("dist_token", torch::zeros({1, 1, 3}));
  }
  torch::nn::Linear fc{nullptr};
  torch::nn::LayerNorm norm{nullptr};
  torch::Tensor pos_embed;
  torch::Tensor dist_token;
};

TEST(CreateOptimizer, SplitsDecayAndNoDecayGroups) {
  TinyNet net;
  auto config = ParseTextProtoOrDie<proto::OptimizerConfig>(R"pb(
    peak_lr: 0.1 weight_decay: 1e-4 no_decay_on_1d_params: true
    sgd { momentum: 0.9 nesterov: true })pb");
  auto optimizer = CreateOptimizer(config, net);
  ASSERT_THAT(optimizer, IsOk());
  auto& groups = (*optimizer)->param_groups();
  ASSERT_EQ(groups.size(), 2u);
  // fc.weight, and dist_token: timm's rule decays it (DeiT never adds it to no_weight_decay).
  EXPECT_EQ(groups[0].params().size(), 2u);
  // fc.bias, norm.weight, norm.bias, pos_embed (rank 3, exempt by name).
  EXPECT_EQ(groups[1].params().size(), 4u);
  EXPECT_TRUE(IsNoDecayParameter("pos_embed", torch::zeros({1, 2, 3})));
  EXPECT_TRUE(IsNoDecayParameter("cls_token", torch::zeros({1, 1, 3})));
  EXPECT_FALSE(IsNoDecayParameter("dist_token", torch::zeros({1, 1, 3})));
  EXPECT_FALSE(IsNoDecayParameter("blocks.0.attn.qkv.weight", torch::zeros({9, 3})));
  EXPECT_FALSE(IsNoDecayParameter("my_pos_embed_table", torch::zeros({4, 3})));
  auto& decay = static_cast<torch::optim::SGDOptions&>(groups[0].options());
  auto& no_decay = static_cast<torch::optim::SGDOptions&>(groups[1].options());
  EXPECT_DOUBLE_EQ(decay.weight_decay(), 1e-4);
  EXPECT_DOUBLE_EQ(no_decay.weight_decay(), 0.0);
  EXPECT_TRUE(decay.nesterov());
  SetLearningRate(**optimizer, 0.02);
  EXPECT_DOUBLE_EQ(groups[1].options().get_lr(), 0.02);
}

TEST(CreateOptimizer, AdamWStepMatchesClosedForm) {
  // One AdamW step from zero moments moves each weight by lr * sign(grad) (plus decoupled decay).
  torch::nn::Linear fc(torch::nn::LinearOptions(2, 1).bias(false));
  torch::NoGradGuard no_grad;
  fc->weight.fill_(1.0);
  auto config = ParseTextProtoOrDie<proto::OptimizerConfig>(R"pb(
    peak_lr: 0.01 weight_decay: 0.05 no_decay_on_1d_params: true
    adamw { beta1: 0.9 beta2: 0.999 epsilon: 1e-12 })pb");
  auto optimizer = CreateOptimizer(config, *fc);
  ASSERT_THAT(optimizer, IsOk());
  fc->weight.mutable_grad() = torch::tensor({{3.0f, -2.0f}});
  (*optimizer)->step();
  EXPECT_NEAR(fc->weight[0][0].item<float>(), 1.0 - 0.01 * 0.05 - 0.01, 1e-6);
  EXPECT_NEAR(fc->weight[0][1].item<float>(), 1.0 - 0.01 * 0.05 + 0.01, 1e-6);
}

TEST(ValidateOptimizerConfig, NamesTheBadField) {
  auto config = ParseTextProtoOrDie<proto::OptimizerConfig>(R"pb(
    peak_lr: 0 weight_decay: 0 no_decay_on_1d_params: true sgd { momentum: 0.9 nesterov: false })pb");
  EXPECT_THAT(ValidateOptimizerConfig(config),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("training.optimizer.peak_lr: must be in (0, 10], got 0")));
  config.set_peak_lr(0.1);
  config.mutable_sgd()->set_momentum(1.0);
  EXPECT_THAT(ValidateOptimizerConfig(config),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sgd.momentum")));
}

}  // namespace
}  // namespace robustness
