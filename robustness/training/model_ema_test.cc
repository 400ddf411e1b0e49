#include "robustness/training/model_ema.h"

#include <torch/torch.h>

#include "gtest/gtest.h"

namespace robustness {
namespace {

struct NetImpl : torch::nn::Module {
  NetImpl() {
    fc = register_module("fc", torch::nn::Linear(3, 2));
    bn = register_module("bn", torch::nn::BatchNorm1d(2));
  }
  torch::nn::Linear fc{nullptr};
  torch::nn::BatchNorm1d bn{nullptr};
};

TEST(ModelEma, FollowsTheFormulaOverParametersAndBuffers) {
  torch::manual_seed(0);
  NetImpl net;
  ModelEma ema(net, 0.9);
  const torch::Tensor w0 = net.fc->weight.detach().clone();
  {
    torch::NoGradGuard no_grad;
    net.fc->weight.add_(1.0);
    net.bn->running_mean.fill_(2.0);
    net.bn->num_batches_tracked.fill_(25);
  }
  ema.Update(net);
  // Entries: fc.weight, fc.bias, bn.weight, bn.bias, then bn's running_mean, running_var, count.
  EXPECT_TRUE(torch::allclose(ema.state()[0], 0.9 * w0 + 0.1 * (w0 + 1.0)));
  EXPECT_TRUE(torch::allclose(ema.state()[4], torch::full({2}, 0.2)));
  EXPECT_EQ(ema.state()[6].item<int64_t>(), 2);  // 0.1 * 25 = 2.5, truncated
}

TEST(ModelEma, CopyToWritesTheAverageAndStateRoundTrips) {
  torch::manual_seed(1);
  NetImpl net, other;
  ModelEma ema(net, 0.5);
  {
    torch::NoGradGuard no_grad;
    net.fc->bias.fill_(4.0);
  }
  ema.Update(net);
  ModelEma restored(other, 0.5);
  restored.set_state(ema.state());
  restored.CopyTo(other);
  EXPECT_TRUE(torch::allclose(other.fc->bias, ema.state()[1]));  // the average, not 4
  EXPECT_TRUE(torch::equal(other.fc->weight, net.fc->weight));  // weights never changed
}

}  // namespace
}  // namespace robustness
