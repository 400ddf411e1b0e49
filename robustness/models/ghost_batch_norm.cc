#include "robustness/models/ghost_batch_norm.h"

#include <utility>
#include <vector>

#include <glog/logging.h>
#include <torch/nn/functional/batchnorm.h>
#include <torch/nn/init.h>

namespace robustness {

namespace F = torch::nn::functional;

GhostBatchNorm2dOptions::GhostBatchNorm2dOptions(int64_t num_features, int64_t virtual_batch_size)
    : num_features_(num_features), virtual_batch_size_(virtual_batch_size) {}

GhostBatchNorm2dImpl::GhostBatchNorm2dImpl(GhostBatchNorm2dOptions options_)
    : options(std::move(options_)) {
  reset();
}

void GhostBatchNorm2dImpl::reset() {
  CHECK_GE(options.num_features(), 1);
  CHECK_GE(options.virtual_batch_size(), 1) << "GhostBatchNorm2d: virtual_batch_size must be >= 1";
  const int64_t c = options.num_features();
  weight = register_parameter("weight", torch::ones({c}));
  bias = register_parameter("bias", torch::zeros({c}));
  running_mean = register_buffer("running_mean", torch::zeros({c}));
  running_var = register_buffer("running_var", torch::ones({c}));
  num_batches_tracked =
      register_buffer("num_batches_tracked", torch::tensor(0, torch::dtype(torch::kLong)));
}

void GhostBatchNorm2dImpl::pretty_print(std::ostream& stream) const {
  stream << "robustness::GhostBatchNorm2d(" << options.num_features()
         << ", virtual_batch_size=" << options.virtual_batch_size() << ", eps=" << options.eps()
         << ", momentum=" << options.momentum() << ")";
}

torch::Tensor GhostBatchNorm2dImpl::forward(const torch::Tensor& input) {
  CHECK_EQ(input.dim(), 4) << "GhostBatchNorm2d expects [N, C, H, W], got " << input.sizes();
  CHECK_EQ(input.size(1), options.num_features())
      << "GhostBatchNorm2d expects " << options.num_features() << " channels, got "
      << input.sizes();
  auto bn = [&](bool training, double momentum) {
    return F::BatchNormFuncOptions()
        .weight(weight)
        .bias(bias)
        .training(training)
        .momentum(momentum)
        .eps(options.eps());
  };
  if (!is_training()) {
    return F::batch_norm(input, running_mean, running_var, bn(false, options.momentum()));
  }
  num_batches_tracked += 1;
  const int64_t n = input.size(0);
  if (n <= options.virtual_batch_size()) {
    // The same call BatchNorm2d makes, so one chunk is BatchNorm2d bit for bit.
    return F::batch_norm(input, running_mean, running_var, bn(true, options.momentum()));
  }
  std::vector<torch::Tensor> outputs;
  torch::Tensor mean_sum = torch::zeros_like(running_mean);
  torch::Tensor var_sum = torch::zeros_like(running_var);
  for (const torch::Tensor& chunk : input.split(options.virtual_batch_size(), /*dim=*/0)) {
    // Momentum 1 makes batch_norm write this chunk's mean and unbiased variance into the scratch
    // buffers, the statistics the kernel computes anyway, instead of a second pass over the data.
    torch::Tensor chunk_mean = torch::zeros_like(running_mean);
    torch::Tensor chunk_var = torch::ones_like(running_var);
    outputs.push_back(F::batch_norm(chunk, chunk_mean, chunk_var, bn(true, /*momentum=*/1.0)));
    const double share = static_cast<double>(chunk.size(0)) / static_cast<double>(n);
    mean_sum.add_(chunk_mean, share);
    var_sum.add_(chunk_var, share);
  }
  {
    torch::NoGradGuard no_grad;
    const double m = options.momentum();
    running_mean.mul_(1.0 - m).add_(mean_sum, m);
    running_var.mul_(1.0 - m).add_(var_sum, m);
  }
  return torch::cat(outputs, /*dim=*/0);
}

}  // namespace robustness
