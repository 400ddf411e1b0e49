#include "robustness/textures/kmeans.h"

#include <cmath>
#include <limits>

#include <glog/logging.h>

namespace robustness {
namespace {

// Squared distances [N, K] from points [N, D] (with squared norms [N]) to centers [K, D].
torch::Tensor SquaredDistances(const torch::Tensor& points, const torch::Tensor& norms,
                               const torch::Tensor& centers) {
  const torch::Tensor c_norms = centers.pow(2).sum(1);
  return (norms.unsqueeze(1) - 2 * torch::mm(points, centers.t()) + c_norms.unsqueeze(0))
      .clamp_min(0);
}

// Greedy k-means++ (sklearn's _kmeans_plusplus).
torch::Tensor PlusPlus(const torch::Tensor& points, const torch::Tensor& norms, int64_t k,
                       torch::Generator& gen) {
  const int64_t n = points.size(0);
  const int64_t trials = 2 + static_cast<int64_t>(std::log(static_cast<double>(k)));
  torch::Tensor centers = torch::empty({k, points.size(1)}, points.options());
  const int64_t first = torch::randint(n, {1}, gen, torch::kLong).item<int64_t>();
  centers[0].copy_(points[first]);
  torch::Tensor closest = SquaredDistances(points, norms, centers.narrow(0, 0, 1)).squeeze(1);
  for (int64_t c = 1; c < k; ++c) {
    const double potential = closest.sum().item<double>();
    torch::Tensor candidates;
    if (potential > 0) {
      candidates = torch::multinomial(closest.to(torch::kDouble), trials, /*replacement=*/true,
                                      gen);
    } else {  // every point already is a centre: any will do
      candidates = torch::randint(n, {trials}, gen, torch::kLong);
    }
    const torch::Tensor d = SquaredDistances(points, norms, points.index_select(0, candidates));
    const torch::Tensor merged = torch::minimum(d, closest.unsqueeze(1));  // [N, trials]
    const int64_t best = merged.sum(0).argmin().item<int64_t>();
    centers[c].copy_(points[candidates[best].item<int64_t>()]);
    closest = merged.select(1, best).contiguous();
  }
  return centers;
}

KMeansResult Lloyd(const torch::Tensor& points, const torch::Tensor& norms, torch::Tensor centers,
                   int max_iterations, double tolerance) {
  const int64_t k = centers.size(0);
  KMeansResult result;
  torch::Tensor assignment;
  for (int it = 0; it < max_iterations; ++it) {
    const torch::Tensor d = SquaredDistances(points, norms, centers);
    auto [min_d, arg] = d.min(1);
    assignment = arg;
    torch::Tensor sums = torch::zeros_like(centers).index_add_(0, assignment, points);
    torch::Tensor counts =
        torch::zeros({k}, points.options()).index_add_(0, assignment, torch::ones_like(min_d));
    torch::Tensor updated = sums / counts.clamp_min(1).unsqueeze(1);
    // Empty clusters take the points farthest from their centres, farthest first.
    const torch::Tensor empty = (counts == 0).nonzero().flatten();
    if (empty.numel() > 0) {
      const torch::Tensor far = std::get<1>(min_d.topk(empty.numel()));
      updated.index_copy_(0, empty, points.index_select(0, far));
    }
    const double shift = (updated - centers).pow(2).sum().item<double>();
    centers = updated;
    result.iterations = it + 1;
    if (shift <= tolerance) break;
  }
  const torch::Tensor d = SquaredDistances(points, norms, centers);
  auto [min_d, arg] = d.min(1);
  result.centers = centers;
  result.assignment = arg;
  result.inertia = min_d.sum().item<double>();
  return result;
}

}  // namespace

KMeansResult KMeans(const torch::Tensor& points, int64_t k, const proto::KMeansConfig& config,
                    torch::Generator& gen) {
  CHECK_EQ(points.dim(), 2);
  CHECK_EQ(points.scalar_type(), torch::kFloat);
  CHECK(k >= 1 && k <= points.size(0)) << "k " << k << " for " << points.size(0) << " points";
  CHECK_GE(config.restarts(), 1);
  CHECK_GE(config.max_iterations(), 1);
  CHECK_GE(config.tolerance(), 0);
  torch::NoGradGuard no_grad;
  const torch::Tensor x = points.contiguous();
  const torch::Tensor norms = x.pow(2).sum(1);
  const double tolerance = config.tolerance() * x.var(0, /*unbiased=*/false).mean().item<double>();
  KMeansResult best;
  best.inertia = std::numeric_limits<double>::infinity();
  for (int start = 0; start < config.restarts(); ++start) {
    KMeansResult r = Lloyd(x, norms, PlusPlus(x, norms, k, gen), config.max_iterations(), tolerance);
    if (r.inertia < best.inertia) best = std::move(r);
  }
  return best;
}

}  // namespace robustness
