#include "robustness/models/normalize.h"

#include <ostream>
#include <utility>

#include <glog/logging.h>

namespace robustness {

NormalizeOptions::NormalizeOptions(std::vector<double> mean, std::vector<double> std)
    : mean_(std::move(mean)), std_(std::move(std)) {}

std::vector<double> NormalizeOptions::ImageNetMean() { return {0.485, 0.456, 0.406}; }
std::vector<double> NormalizeOptions::ImageNetStd() { return {0.229, 0.224, 0.225}; }

NormalizeImpl::NormalizeImpl(NormalizeOptions options) : options(std::move(options)) { reset(); }

void NormalizeImpl::reset() {
  const std::vector<double>& mean = options.mean();
  const std::vector<double>& std = options.std();
  CHECK(!mean.empty()) << "Normalize needs at least one channel";
  CHECK_EQ(mean.size(), std.size()) << "Normalize: mean and std differ in length";
  for (double s : std) CHECK_GT(s, 0.0) << "Normalize: std must be > 0";
  const int64_t channels = static_cast<int64_t>(mean.size());
  mean_ =
      register_buffer("mean", torch::tensor(mean, torch::kFloat32).reshape({1, channels, 1, 1}));
  std_ = register_buffer("std", torch::tensor(std, torch::kFloat32).reshape({1, channels, 1, 1}));
}

void NormalizeImpl::pretty_print(std::ostream& stream) const {
  stream << "robustness::Normalize(channels=" << options.mean().size() << ")";
}

torch::Tensor NormalizeImpl::forward(const torch::Tensor& images) {
  CHECK_EQ(images.dim(), 4) << "Normalize expects [N, C, H, W], got " << images.sizes();
  CHECK_EQ(images.size(1), mean_.size(1))
      << "Normalize expects " << mean_.size(1) << " channels, got " << images.sizes();
  return (images - mean_) / std_;
}

}  // namespace robustness
