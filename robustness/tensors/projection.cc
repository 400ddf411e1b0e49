#include "robustness/tensors/projection.h"

#include <vector>

#include <torch/types.h>

#include "glog/logging.h"

namespace robustness {
namespace {

// Guards the divisions by a per-image norm; far below any float32 perturbation that matters.
constexpr double kTinyNorm = 1e-12;

// A [N] tensor viewed as [N, 1, ..., 1] so it broadcasts against `like`.
torch::Tensor PerImageView(const torch::Tensor& per_image, const torch::Tensor& like) {
  std::vector<int64_t> shape(like.dim(), 1);
  shape[0] = like.size(0);
  return per_image.view(shape);
}

}  // namespace

torch::Tensor PerImageL2Norm(const torch::Tensor& x) {
  CHECK_GE(x.dim(), 1) << "PerImageL2Norm needs a batch dimension";
  return x.detach().flatten(1).norm(2, /*dim=*/{1});
}

torch::Tensor NormalizePerImageL2(const torch::Tensor& x) {
  return x.detach() / PerImageView(PerImageL2Norm(x) + kTinyNorm, x);
}

torch::Tensor ProjectLinf(const torch::Tensor& x_adv, const torch::Tensor& x, double eps) {
  CHECK_GE(eps, 0.0);
  CHECK(x_adv.sizes() == x.sizes()) << x_adv.sizes() << " vs " << x.sizes();
  torch::Tensor lo = x.detach() - eps;
  torch::Tensor hi = x.detach() + eps;
  return torch::min(torch::max(x_adv.detach(), lo), hi).clamp(0.0, 1.0);
}

torch::Tensor ProjectL2(const torch::Tensor& x_adv, const torch::Tensor& x, double eps) {
  CHECK_GE(eps, 0.0);
  CHECK(x_adv.sizes() == x.sizes()) << x_adv.sizes() << " vs " << x.sizes();
  torch::Tensor delta = x_adv.detach() - x.detach();
  // factor = min(1, eps / ||delta||): deltas inside the ball are multiplied by exactly 1.
  torch::Tensor factor = (eps / (PerImageL2Norm(delta) + kTinyNorm)).clamp_max(1.0);
  return (x.detach() + delta * PerImageView(factor, delta)).clamp(0.0, 1.0);
}

torch::Tensor Project(LpNorm norm, const torch::Tensor& x_adv, const torch::Tensor& x,
                      double eps) {
  switch (norm) {
    case LpNorm::kLinf:
      return ProjectLinf(x_adv, x, eps);
    case LpNorm::kL2:
      return ProjectL2(x_adv, x, eps);
  }
  LOG(FATAL) << "unknown LpNorm " << static_cast<int>(norm);
}

torch::Tensor RandomInBall(LpNorm norm, const torch::Tensor& like, double eps,
                           torch::Generator& gen) {
  CHECK_GE(eps, 0.0);
  CHECK_GE(like.dim(), 1) << "RandomInBall needs a batch dimension";
  const torch::TensorOptions options = like.options().requires_grad(false);
  switch (norm) {
    case LpNorm::kLinf:
      return (torch::rand(like.sizes(), gen, options) * 2.0 - 1.0) * eps;
    case LpNorm::kL2: {
      torch::Tensor direction = NormalizePerImageL2(torch::randn(like.sizes(), gen, options));
      const int64_t n = like.size(0);
      const double d = n > 0 ? static_cast<double>(like.numel() / n) : 1.0;
      torch::Tensor radius = torch::rand({n}, gen, options).pow(1.0 / d) * eps;
      return direction * PerImageView(radius, direction);
    }
  }
  LOG(FATAL) << "unknown LpNorm " << static_cast<int>(norm);
}

}  // namespace robustness
