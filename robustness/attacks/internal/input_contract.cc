#include "robustness/attacks/internal/input_contract.h"

#include <torch/types.h>

#include "glog/logging.h"

namespace robustness {
namespace attacks_internal {

void CheckAttackInputs(const torch::Tensor& images, const torch::Tensor& labels) {
  CHECK(images.defined() && labels.defined()) << "attack inputs must be defined";
  CHECK_EQ(images.dim(), 4) << "images must be [N, C, H, W], got " << images.sizes();
  CHECK(images.is_floating_point()) << "images must be floating point, got " << images.dtype();
  CHECK(labels.dim() == 1 && labels.size(0) == images.size(0))
      << "labels must be [N] with N = " << images.size(0) << ", got " << labels.sizes();
  CHECK(labels.scalar_type() == torch::kLong) << "labels must be int64, got " << labels.dtype();
  CHECK(labels.device() == images.device())
      << "labels on " << labels.device() << ", images on " << images.device();
  if (images.numel() == 0) return;
  const double lo = images.min().item<double>();
  const double hi = images.max().item<double>();
  CHECK(lo >= 0.0 && hi <= 1.0)
      << "images must be in [0, 1] pixel space (normalisation belongs inside the model), got ["
      << lo << ", " << hi << "]";
}

}  // namespace attacks_internal
}  // namespace robustness
