#include "robustness/models/ghost_batch_norm.h"

#include <cstdint>
#include <vector>

#include <gtest/gtest.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/utils.h>

namespace robustness {
namespace {

// Non-trivial affine parameters, the same in both modules.
void SetAffine(torch::nn::Module& module, int64_t channels) {
  torch::NoGradGuard no_grad;
  auto params = module.named_parameters();
  params["weight"].copy_(torch::linspace(0.5, 2.0, channels));
  params["bias"].copy_(torch::linspace(-1.0, 1.0, channels));
}

TEST(GhostBatchNorm2d, NamesAndShapesMatchBatchNorm2d) {
  GhostBatchNorm2d ghost(GhostBatchNorm2dOptions(5, 4));
  torch::nn::BatchNorm2d plain(5);
  auto ghost_state = ghost->named_parameters();
  auto plain_state = plain->named_parameters();
  ASSERT_EQ(ghost_state.keys(), plain_state.keys());
  auto ghost_buffers = ghost->named_buffers();
  auto plain_buffers = plain->named_buffers();
  ASSERT_EQ(ghost_buffers.keys(), plain_buffers.keys());
  for (const auto& item : plain_buffers) {
    EXPECT_TRUE(torch::equal(ghost_buffers[item.key()], item.value())) << item.key();
    EXPECT_EQ(ghost_buffers[item.key()].scalar_type(), item.value().scalar_type()) << item.key();
  }
  EXPECT_TRUE(torch::equal(ghost_state["weight"], plain_state["weight"]));
}

TEST(GhostBatchNorm2d, OneVirtualBatchIsExactlyBatchNorm2d) {
  torch::manual_seed(0);
  // Virtual batch = N = 6: one chunk. Two steps, so the running statistics compound.
  GhostBatchNorm2d ghost(GhostBatchNorm2dOptions(3, 6));
  torch::nn::BatchNorm2d plain(3);
  SetAffine(*ghost, 3);
  SetAffine(*plain, 3);
  for (int step = 0; step < 2; ++step) {
    torch::Tensor x = torch::randn({6, 3, 5, 5}) * 2 + 1;
    EXPECT_TRUE(torch::equal(ghost(x), plain(x)));
  }
  EXPECT_TRUE(torch::equal(ghost->running_mean, plain->running_mean));
  EXPECT_TRUE(torch::equal(ghost->running_var, plain->running_var));
  EXPECT_EQ(ghost->num_batches_tracked.item<int64_t>(), 2);
}

TEST(GhostBatchNorm2d, ChunksAreNormalisedSeparately) {
  torch::manual_seed(1);
  // N = 10, virtual batch 4: chunks of 4, 4 and a remainder of 2, each with its own statistics
  // (shifted per chunk, so whole-batch statistics would give a clearly different answer).
  torch::Tensor x = torch::randn({10, 3, 4, 4}) + torch::arange(10).reshape({10, 1, 1, 1}) / 4;
  GhostBatchNorm2d ghost(GhostBatchNorm2dOptions(3, 4));
  SetAffine(*ghost, 3);
  torch::Tensor out = ghost(x);

  std::vector<torch::Tensor> expected;
  torch::Tensor mean_sum = torch::zeros({3});
  torch::Tensor var_sum = torch::zeros({3});
  for (const torch::Tensor& chunk : x.split(4)) {
    torch::nn::BatchNorm2d plain(3);
    SetAffine(*plain, 3);
    expected.push_back(plain(chunk.clone()));
    mean_sum += chunk.mean({0, 2, 3}) * chunk.size(0) / 10.0;
    var_sum += chunk.var({0, 2, 3}, /*unbiased=*/true) * chunk.size(0) / 10.0;
  }
  EXPECT_TRUE(torch::allclose(out, torch::cat(expected), 1e-5, 1e-6));
  torch::nn::BatchNorm2d whole(3);
  SetAffine(*whole, 3);
  EXPECT_FALSE(torch::allclose(out, whole(x), 1e-2, 1e-2));
  // One update with momentum 0.1 from (0, 1), with the size-weighted chunk statistics.
  EXPECT_TRUE(torch::allclose(ghost->running_mean, 0.1 * mean_sum, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(ghost->running_var, 0.9 + 0.1 * var_sum, 1e-5, 1e-6));
  EXPECT_EQ(ghost->num_batches_tracked.item<int64_t>(), 1);
}

TEST(GhostBatchNorm2d, EvalUsesRunningStatisticsLikeBatchNorm2d) {
  torch::manual_seed(2);
  GhostBatchNorm2d ghost(GhostBatchNorm2dOptions(3, 2));
  torch::nn::BatchNorm2d plain(3);
  {
    torch::NoGradGuard no_grad;
    for (auto* module : std::vector<torch::nn::Module*>{ghost.get(), plain.get()}) {
      auto buffers = module->named_buffers();
      buffers["running_mean"].copy_(torch::tensor({0.5, -1.0, 2.0}));
      buffers["running_var"].copy_(torch::tensor({0.25, 4.0, 1.5}));
    }
  }
  SetAffine(*ghost, 3);
  SetAffine(*plain, 3);
  ghost->eval();
  plain->eval();
  torch::Tensor x = torch::randn({5, 3, 2, 2});
  EXPECT_TRUE(torch::equal(ghost(x), plain(x)));
  EXPECT_TRUE(torch::equal(ghost->running_mean, torch::tensor({0.5f, -1.0f, 2.0f})));
  EXPECT_EQ(ghost->num_batches_tracked.item<int64_t>(), 0);
}

TEST(GhostBatchNorm2d, GradientsMatchPerChunkBatchNorm) {
  torch::manual_seed(3);
  torch::Tensor x = torch::randn({6, 2, 3, 3}, torch::requires_grad());
  torch::Tensor upstream = torch::randn({6, 2, 3, 3});
  GhostBatchNorm2d ghost(GhostBatchNorm2dOptions(2, 3));
  SetAffine(*ghost, 2);
  (ghost(x) * upstream).sum().backward();
  torch::Tensor x_grad = x.grad().clone();

  torch::Tensor x_ref = x.detach().clone().requires_grad_(true);
  torch::nn::BatchNorm2d plain(2);
  SetAffine(*plain, 2);
  std::vector<torch::Tensor> chunks = x_ref.split(3);
  (torch::cat({plain(chunks[0]), plain(chunks[1])}) * upstream).sum().backward();

  EXPECT_GT(x_grad.abs().sum().item<double>(), 0.0);
  EXPECT_TRUE(torch::allclose(x_grad, x_ref.grad(), 1e-4, 1e-6));
  EXPECT_TRUE(torch::allclose(ghost->weight.grad(), plain->weight.grad(), 1e-4, 1e-6));
  EXPECT_TRUE(torch::allclose(ghost->bias.grad(), plain->bias.grad(), 1e-4, 1e-6));
}

TEST(GhostBatchNorm2d, StateDictLoadsIntoBatchNorm2d) {
  torch::manual_seed(4);
  GhostBatchNorm2d ghost(GhostBatchNorm2dOptions(3, 2));
  SetAffine(*ghost, 3);
  ghost(torch::randn({4, 3, 2, 2}));  // Moves the running statistics.
  torch::nn::BatchNorm2d plain(3);
  {
    torch::NoGradGuard no_grad;
    for (const auto& item : ghost->named_parameters()) {
      plain->named_parameters()[item.key()].copy_(item.value());
    }
    for (const auto& item : ghost->named_buffers()) {
      plain->named_buffers()[item.key()].copy_(item.value());
    }
  }
  ghost->eval();
  plain->eval();
  torch::Tensor x = torch::randn({2, 3, 2, 2});
  EXPECT_TRUE(torch::equal(ghost(x), plain(x)));
}

}  // namespace
}  // namespace robustness
