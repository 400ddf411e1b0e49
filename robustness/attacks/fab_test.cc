#include "robustness/attacks/fab.h"

#include <cmath>
#include <limits>
#include <string>

#include <torch/types.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/attacks/internal/toy_models.h"
#include "robustness/base/seed.h"
#include "robustness/base/status_matchers.h"
#include "robustness/config/parse_text_proto.h"

namespace robustness {
namespace {

using attacks_internal::LinearClassifier;
using attacks_internal::SmallConvNet;
using ::testing::HasSubstr;

double Norm(LpNorm norm, const torch::Tensor& v) {
  return norm == LpNorm::kLinf ? v.abs().max().item<double>()
                               : v.to(torch::kDouble).pow(2).sum().sqrt().item<double>();
}

// In two dimensions the hyperplane is a line; the smallest displacement onto line ∩ box by a
// dense scan of the line's segment inside the box: an answer independent of the projection's
// algebra.
double BruteForce2d(LpNorm norm, double t0, double t1, double w0, double w1, double b) {
  double best = std::numeric_limits<double>::infinity();
  const int steps = 400000;
  for (int i = 0; i <= steps; ++i) {
    const double s = static_cast<double>(i) / steps;
    double u0, u1;
    if (std::abs(w1) >= std::abs(w0)) {
      u0 = s;
      u1 = (b - w0 * u0) / w1;
    } else {
      u1 = s;
      u0 = (b - w1 * u1) / w0;
    }
    if (u0 < 0 || u0 > 1 || u1 < 0 || u1 > 1) continue;
    const double d0 = u0 - t0, d1 = u1 - t1;
    const double n = norm == LpNorm::kLinf ? std::max(std::abs(d0), std::abs(d1))
                                           : std::sqrt(d0 * d0 + d1 * d1);
    best = std::min(best, n);
  }
  return best;
}

TEST(FabProjection, MatchesABruteForceScanInTwoDimensions) {
  torch::Generator gen = MakeCpuGenerator(3);
  for (LpNorm norm : {LpNorm::kLinf, LpNorm::kL2}) {
    int checked = 0;
    for (int trial = 0; trial < 60; ++trial) {
      const torch::Tensor t = torch::rand({1, 2}, gen);
      const torch::Tensor w = torch::randn({1, 2}, gen);
      // A hyperplane through a random point of the box, so that it meets the box.
      const torch::Tensor u = torch::rand({1, 2}, gen);
      const torch::Tensor b = (w * u).sum(1);
      const torch::Tensor d = FabProjection(norm, t, w, b);
      const double expected =
          BruteForce2d(norm, t[0][0].item<double>(), t[0][1].item<double>(),
                       w[0][0].item<double>(), w[0][1].item<double>(), b[0].item<double>());
      EXPECT_NEAR(Norm(norm, d), expected, 2e-4) << "norm " << static_cast<int>(norm) << " trial "
                                                 << trial;
      EXPECT_NEAR(((t + d) * w).sum().item<double>(), b.item<double>(), 1e-5);
      ++checked;
    }
    EXPECT_EQ(checked, 60);
  }
}

TEST(FabProjection, OnTheHyperplaneInsideTheBoxAndMinimalInManyDimensions) {
  torch::Generator gen = MakeCpuGenerator(4);
  const int64_t rows = 64, dims = 300;
  const torch::Tensor t = torch::rand({rows, dims}, gen);
  const torch::Tensor w = torch::randn({rows, dims}, gen);
  const torch::Tensor b = (w * torch::rand({rows, dims}, gen)).sum(1);
  for (LpNorm norm : {LpNorm::kLinf, LpNorm::kL2}) {
    const torch::Tensor d = FabProjection(norm, t, w, b);
    const torch::Tensor u = t + d;
    EXPECT_GE(u.min().item<float>(), -1e-6f);
    EXPECT_LE(u.max().item<float>(), 1.0f + 1e-6f);
    EXPECT_LT(((u * w).sum(1) - b).abs().max().item<float>(), 2e-3f);
    // Minimal: the same construction with any smaller multiplier falls short of the plane.
    // L-inf: every coordinate that moves less than the largest move is at its bound.
    if (norm == LpNorm::kLinf) {
      const torch::Tensor lambda = std::get<0>(d.abs().max(1, /*keepdim=*/true));
      const torch::Tensor at_bound = u.le(1e-6).logical_or(u.ge(1 - 1e-6));
      const torch::Tensor short_move = d.abs() < lambda - 1e-6;
      EXPECT_TRUE(short_move.logical_and(at_bound.logical_not()).logical_and(w.ne(0)).sum()
                      .item<int64_t>() == 0);
    } else {
      // L2 (KKT): d = -lambda w on the coordinates not at a bound, one lambda per row (its sign
      // is the row's orientation).
      const torch::Tensor free = u.gt(1e-5).logical_and(u.lt(1 - 1e-5));
      const torch::Tensor ratio = torch::where(free, (d / w).abs(), torch::zeros_like(d));
      const torch::Tensor lambda = std::get<0>(ratio.max(1, /*keepdim=*/true));
      EXPECT_LT(torch::where(free, (ratio - lambda).abs() / lambda, torch::zeros_like(d))
                    .max().item<float>(),
                1e-3f);
      EXPECT_GT(lambda.min().item<float>(), 0.0f);
    }
  }
}

TEST(FabProjection, OutOfReachGoesToTheCornerAndZeroWeightsStayPut) {
  // <w, u> = 10 is beyond the box for w = (1, -1, 0): the corner (1, 0, t_2) is the closest.
  const torch::Tensor t = torch::tensor({{0.5f, 0.5f, 0.3f}});
  const torch::Tensor w = torch::tensor({{1.0f, -1.0f, 0.0f}});
  const torch::Tensor b = torch::tensor({10.0f});
  for (LpNorm norm : {LpNorm::kLinf, LpNorm::kL2}) {
    const torch::Tensor d = FabProjection(norm, t, w, b);
    EXPECT_TRUE(torch::allclose(t + d, torch::tensor({{1.0f, 0.0f, 0.3f}})));
  }
  // A reachable plane: the zero-weight coordinate still never moves.
  const torch::Tensor d = FabProjection(LpNorm::kLinf, t, w, torch::tensor({0.2f}));
  EXPECT_FLOAT_EQ(d[0][2].item<float>(), 0.0f);
  EXPECT_NEAR(d[0][0].item<float>(), 0.1f, 1e-6);
  EXPECT_NEAR(d[0][1].item<float>(), -0.1f, 1e-6);
  // Unsaturated L2: the plain orthogonal projection c / ||w||^2.
  const torch::Tensor d2 = FabProjection(LpNorm::kL2, t, w, torch::tensor({0.2f}));
  EXPECT_NEAR(d2[0][0].item<float>(), 0.1f, 1e-6);
  EXPECT_NEAR(d2[0][1].item<float>(), -0.1f, 1e-6);
}

TEST(FabSingleRun, OnALinearModelFindsNearlyTheDistanceToTheTargetBoundary) {
  // For a linear model the first projection lands on the exact boundary z_t = z_y (then
  // overshoots by eta), so FAB-T's best distance is at most 1.05 times the distance to that
  // boundary, and never below the distance to the nearest boundary of any wrong class.
  LinearClassifier model(3 * 8 * 8, 5, /*seed=*/2);
  model.eval();
  torch::Generator gen = MakeCpuGenerator(5);
  const torch::Tensor x = torch::rand({16, 3, 8, 8}, gen) * 0.6 + 0.2;
  const torch::Tensor clean = model.forward(x).detach();
  const torch::Tensor y = clean.argmax(1);
  const torch::Tensor target = std::get<1>(clean.sort(1)).select(1, 5 - 2).contiguous();
  const torch::Tensor weight = model.fc->weight.detach() / 0.25;  // d logits / d x
  for (LpNorm norm : {LpNorm::kLinf, LpNorm::kL2}) {
    FabOptions o;
    o.norm = norm;
    o.epsilon = 1.0;
    o.stop_when_accepted = false;
    const FabRunResult r = FabSingleRun(model, x, y, target, o, /*random_start=*/false, gen);
    for (int64_t i = 0; i < 16; ++i) {
      const int64_t yi = y[i].item<int64_t>(), ti = target[i].item<int64_t>();
      const torch::Tensor wt = weight[ti] - weight[yi];
      const double gap = (clean[i][yi] - clean[i][ti]).item<double>();
      const double dual = norm == LpNorm::kLinf ? wt.abs().sum().item<double>()
                                                : wt.pow(2).sum().sqrt().item<double>();
      const double to_target = gap / dual;  // the box does not bind at this distance
      double nearest = std::numeric_limits<double>::infinity();
      for (int64_t k = 0; k < 5; ++k) {
        if (k == yi) continue;
        const torch::Tensor wk = weight[k] - weight[yi];
        const double dk = norm == LpNorm::kLinf ? wk.abs().sum().item<double>()
                                                : wk.pow(2).sum().sqrt().item<double>();
        nearest = std::min(nearest, (clean[i][yi] - clean[i][k]).item<double>() / dk);
      }
      const double found = r.best_norm[i].item<double>();
      ASSERT_LT(found, 1e9) << "image " << i;
      EXPECT_LE(found, 1.05 * to_target * (1 + 1e-3)) << "image " << i;
      EXPECT_GE(found, nearest * (1 - 1e-3)) << "image " << i;
      EXPECT_NEAR(Norm(norm, r.x_adv[i] - x[i]), found, 1e-5);
      EXPECT_NE(model.forward(r.x_adv[i].unsqueeze(0)).argmax(1).item<int64_t>(), yi);
    }
  }
}

FabOptions StandardFabT(LpNorm norm, double eps) {
  FabOptions o;
  o.norm = norm;
  o.epsilon = eps;
  return o;
}

TEST(Fab, PerturbationsInTheBallAndBoxFooledOnesMisclassifiedTheRestClean) {
  SmallConvNet model(1, 12, 10, /*seed=*/3);
  torch::Generator gen = MakeCpuGenerator(6);
  const torch::Tensor x = torch::rand({24, 1, 12, 12}, gen);
  model.eval();
  const torch::Tensor y = model.forward(x).argmax(1).detach();  // all clean-correct
  for (LpNorm norm : {LpNorm::kLinf, LpNorm::kL2}) {
    const double eps = norm == LpNorm::kLinf ? 0.03 : 0.3;
    const Fab fab("FAB-T", StandardFabT(norm, eps));
    const torch::Tensor adv = fab.Perturb(model, x, y, gen);
    const torch::Tensor delta = (adv - x).view({24, -1});
    const torch::Tensor dist =
        norm == LpNorm::kLinf ? std::get<0>(delta.abs().max(1)) : delta.pow(2).sum(1).sqrt();
    EXPECT_LE(dist.max().item<float>(), static_cast<float>(eps));
    EXPECT_GE(adv.min().item<float>(), 0.0f);
    EXPECT_LE(adv.max().item<float>(), 1.0f);
    const torch::Tensor fooled = model.forward(adv).argmax(1).ne(y);
    const torch::Tensor changed = dist.gt(0);
    EXPECT_TRUE(torch::equal(fooled, changed)) << "an unfooled image must come back clean";
    EXPECT_GT(fooled.sum().item<int64_t>(), 0) << "the test radius should fool some images";
    EXPECT_LT(fooled.sum().item<int64_t>(), 24) << "and leave some robust";
    // Standard FAB-T draws nothing: the same result from any generator state.
    torch::Generator other = MakeCpuGenerator(99);
    EXPECT_TRUE(torch::equal(fab.Perturb(model, x, y, other), adv));
  }
}

TEST(Fab, RestartsStartAtRandomAndAreDeterministicGivenTheSeed) {
  SmallConvNet model(1, 12, 10, /*seed=*/3);
  torch::Generator gen = MakeCpuGenerator(6);
  const torch::Tensor x = torch::rand({12, 1, 12, 12}, gen);
  model.eval();
  const torch::Tensor y = model.forward(x).argmax(1).detach();
  FabOptions o = StandardFabT(LpNorm::kLinf, 0.02);
  o.targeted = false;
  o.restarts = 3;
  o.num_iterations = 20;
  const Fab fab("FAB", o);
  torch::Generator g1 = MakeCpuGenerator(1), g2 = MakeCpuGenerator(1);
  EXPECT_TRUE(torch::equal(fab.Perturb(model, x, y, g1), fab.Perturb(model, x, y, g2)));
}

TEST(Fab, AlreadyMisclassifiedImagesComeBackCleanAndUntouched) {
  SmallConvNet model(1, 12, 10, /*seed=*/3);
  torch::Generator gen = MakeCpuGenerator(8);
  const torch::Tensor x = torch::rand({6, 1, 12, 12}, gen);
  model.eval();
  const torch::Tensor wrong = (model.forward(x).argmax(1).detach() + 1) % 10;
  const Fab fab("FAB-T", StandardFabT(LpNorm::kLinf, 0.5));
  EXPECT_TRUE(torch::equal(fab.Perturb(model, x, wrong, gen), x));
}

TEST(Fab, MoreTargetsThanClassesStopsAtTheLastClass) {
  // 3 classes, 9 targets requested: ranks 2 and 3 only (the reference would index out of range).
  LinearClassifier model(1 * 4 * 4, 3, /*seed=*/4);
  torch::Generator gen = MakeCpuGenerator(9);
  const torch::Tensor x = torch::rand({8, 1, 4, 4}, gen);
  model.eval();
  const torch::Tensor y = model.forward(x).argmax(1).detach();
  const Fab fab("FAB-T", StandardFabT(LpNorm::kL2, 1.0));
  const torch::Tensor adv = fab.Perturb(model, x, y, gen);
  EXPECT_EQ(model.forward(adv).argmax(1).ne(y).sum().item<int64_t>(), 8);
}

TEST(ValidateFabConfig, NamesTheFieldAndValue) {
  proto::FabConfig c = ParseTextProtoOrDie<proto::FabConfig>(
      "norm: LINF targeted: true num_iterations: 100 restarts: 1 num_target_classes: 9 "
      "alpha_max: 0.1 eta: 1.05 beta: 0.9");
  EXPECT_THAT(ValidateFabConfig(c, "fab"), IsOk());
  proto::FabConfig bad = c;
  bad.set_beta(0.0);
  EXPECT_THAT(ValidateFabConfig(bad, "fab"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("fab.beta: must be in (0, 1], got 0")));
  bad = c;
  bad.set_eta(0.5);
  EXPECT_THAT(ValidateFabConfig(bad, "fab"), StatusIs(absl::StatusCode::kInvalidArgument,
                                                      HasSubstr("fab.eta: must be >= 1, got 0.5")));
  bad = c;
  bad.set_targeted(false);
  EXPECT_THAT(ValidateFabConfig(bad, "fab"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("fab.num_target_classes: must be 0 for untargeted FAB, got 9")));
  bad = c;
  bad.clear_alpha_max();
  EXPECT_THAT(ValidateFabConfig(bad, "fab"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("fab.alpha_max: must be set")));
  bad = c;
  bad.set_norm(proto::NORM_UNSPECIFIED);
  EXPECT_THAT(ValidateFabConfig(bad, "fab"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("fab.norm")));
}

}  // namespace
}  // namespace robustness
