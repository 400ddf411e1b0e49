#include "robustness/attacks/internal/eval_mode_guard.h"

#include <memory>

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

#include "gtest/gtest.h"

namespace robustness {
namespace attacks_internal {
namespace {

// net { fc, inner { bn, dropout } }.
struct Net {
  Net() {
    root.register_module("fc", torch::nn::Linear(3, 3));
    inner = root.register_module("inner", std::make_shared<torch::nn::Module>());
    bn = inner->register_module("bn", torch::nn::BatchNorm1d(3));
    dropout = inner->register_module("dropout", torch::nn::Dropout(0.5));
  }
  torch::nn::Module root;
  std::shared_ptr<torch::nn::Module> inner;
  torch::nn::BatchNorm1d bn{nullptr};
  torch::nn::Dropout dropout{nullptr};
};

TEST(EvalModeGuard, EvalInsideScopeAndTrainRestoredAfter) {
  Net net;
  net.root.train();
  {
    EvalModeGuard guard(net.root);
    EXPECT_FALSE(net.root.is_training());
    for (const auto& m : net.root.modules(/*include_self=*/false)) EXPECT_FALSE(m->is_training());
  }
  EXPECT_TRUE(net.root.is_training());
  for (const auto& m : net.root.modules(/*include_self=*/false)) EXPECT_TRUE(m->is_training());
}

TEST(EvalModeGuard, RestoresMixedFlagsPerModule) {
  // A frozen BatchNorm (eval) inside a training network must stay frozen afterwards.
  Net net;
  net.root.train();
  net.bn->eval();
  { EvalModeGuard guard(net.root); }
  EXPECT_TRUE(net.root.is_training());
  EXPECT_TRUE(net.inner->is_training());
  EXPECT_FALSE(net.bn->is_training());
  EXPECT_TRUE(net.dropout->is_training());
}

TEST(EvalModeGuard, LeavesAnEvalModelInEval) {
  Net net;
  net.root.eval();
  { EvalModeGuard guard(net.root); }
  EXPECT_FALSE(net.root.is_training());
  EXPECT_FALSE(net.dropout->is_training());
}

}  // namespace
}  // namespace attacks_internal
}  // namespace robustness
