#include "robustness/attacks/fab.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <c10/util/Exception.h>
#include <torch/autograd.h>
#include <torch/types.h>
#include <torch/utils.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "glog/logging.h"
#include "robustness/attacks/internal/eval_mode_guard.h"
#include "robustness/attacks/internal/gradient_step.h"
#include "robustness/attacks/internal/input_contract.h"
#include "robustness/attacks/internal/still_robust_loop.h"
#include "robustness/attacks/radius.h"
#include "robustness/base/status_macros.h"

namespace robustness {
namespace {

constexpr float kNoAdversarial = 1e10f;  // The reference's res2 before any success.

absl::Status Invalid(absl::string_view path, absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ".", field, ": ", what));
}

// ||v||_p per row of v [B, D] -> [B].
torch::Tensor RowNorm(LpNorm norm, const torch::Tensor& v) {
  return norm == LpNorm::kLinf ? std::get<0>(v.abs().max(1)) : v.pow(2).sum(1).sqrt();
}

// Per row, the lambda >= 0 with G(lambda) = sum_j v_j min(lambda, q_j) = c (v, q >= 0 float
// [B, D], c >= 0 float [B]); +inf where c >= G(inf) = sum_j v_j q_j (the hyperplane is out of
// the box's reach: every coordinate moves all the way). G is piecewise linear and nondecreasing
// with breakpoints at the sorted q; with q ascending, G(q_k) = sum_{j<k} v_j q_j + q_k S_k,
// S_k = sum_{j>=k} v_j. If m breakpoints have G(q_k) <= c, lambda lies on the segment after the
// m-th one, where G(lambda) = sum_{j<m} v_j q_j + lambda S_m (m = 0: lambda = c / sum v).
torch::Tensor CappedLinearMultiplier(const torch::Tensor& v, const torch::Tensor& q,
                                     const torch::Tensor& c) {
  const int64_t dims = q.size(1);
  const auto [q_sorted, order] = q.sort(1);
  const torch::Tensor v_sorted = v.gather(1, order);
  const torch::Tensor vq = v_sorted * q_sorted;
  const torch::Tensor vq_through = vq.cumsum(1);  // sum_{j<=k} v_j q_j
  const torch::Tensor v_total = v_sorted.sum(1, /*keepdim=*/true);
  const torch::Tensor v_from = v_total - v_sorted.cumsum(1) + v_sorted;  // S_k
  const torch::Tensor g_at = vq_through - vq + q_sorted * v_from;       // G(q_k)
  const torch::Tensor reachable = c < vq_through.select(1, dims - 1);
  const torch::Tensor m = g_at.le(c.unsqueeze(1)).sum(1);  // int64 [B], in [0, D]
  const torch::Tensor before =
      torch::where(m > 0, vq_through.gather(1, (m - 1).clamp_min(0).unsqueeze(1)).squeeze(1),
                   torch::zeros_like(c));
  const torch::Tensor slope = torch::where(
      m < dims, v_from.gather(1, m.clamp_max(dims - 1).unsqueeze(1)).squeeze(1),
      torch::zeros_like(c));
  // slope > 0 wherever the hyperplane is reachable (G rises on that segment); the guard only
  // keeps float rounding at a tie from dividing by zero.
  const torch::Tensor lambda =
      torch::where(slope > 0, (c - before) / slope.clamp_min(1e-30), q_sorted.select(1, dims - 1));
  return torch::where(reachable, lambda.clamp_min(0.0),
                      torch::full_like(c, std::numeric_limits<float>::infinity()));
}

// The hyperplane orientation shared by both norms: w and c = <w, t> - b flipped so that c >= 0
// (the projection then lowers <w, u> by c).
std::pair<torch::Tensor, torch::Tensor> Orient(const torch::Tensor& t, const torch::Tensor& w,
                                               const torch::Tensor& b) {
  const torch::Tensor c_raw = (w * t).sum(1) - b;
  const torch::Tensor sign = torch::where(c_raw >= 0, torch::ones_like(c_raw), -torch::ones_like(c_raw));
  return {w * sign.unsqueeze(1), c_raw * sign};
}

torch::Tensor ProjectionLinf(const torch::Tensor& t, const torch::Tensor& w_in,
                             const torch::Tensor& b) {
  const auto [w, c] = Orient(t, w_in, b);
  const torch::Tensor up = w < 0;                          // toward 1 lowers <w, u>
  const torch::Tensor room = torch::where(up, 1.0 - t, t);  // distance to that bound
  const torch::Tensor lambda = CappedLinearMultiplier(w.abs(), room, c);
  const torch::Tensor move = torch::min(lambda.unsqueeze(1), room);
  return torch::where(up, move, -move) * w.ne(0).to(t.dtype());
}

torch::Tensor ProjectionL2(const torch::Tensor& t, const torch::Tensor& w_in,
                           const torch::Tensor& b) {
  const auto [w, c] = Orient(t, w_in, b);
  const torch::Tensor moves = w.abs() > 1e-8;
  const torch::Tensor safe_w = torch::where(moves, w, torch::ones_like(w));
  // The lambda at which -lambda w_i reaches its bound (-t_i for w_i > 0, 1 - t_i for w_i < 0).
  const torch::Tensor saturation = torch::where(
      moves, torch::max(t / safe_w, (t - 1.0) / safe_w).clamp(0.0, 1e12), torch::zeros_like(t));
  const torch::Tensor lambda =
      CappedLinearMultiplier(torch::where(moves, w * w, torch::zeros_like(w)), saturation, c);
  return -w * torch::min(lambda.unsqueeze(1), saturation) * moves.to(t.dtype());
}

struct Linearization {
  torch::Tensor f;  // [m]: z_t - z_y (or the chosen class's), at x
  torch::Tensor w;  // [m, D]: its gradient
  int64_t backward_passes = 0;  // Per image.
};

// A forward pass recorded for autograd: the input leaf and its logits.
struct RecordedForward {
  torch::Tensor input;   // [m, C, H, W], requires grad
  torch::Tensor logits;  // [m, K], with history
};

RecordedForward ForwardWithGraph(ImageClassifierImpl& model, const torch::Tensor& x) {
  torch::AutoGradMode enable_grad(true);
  torch::Tensor input = x.detach().requires_grad_(true);
  torch::Tensor logits = model.forward(input);
  return {input, logits};
}

// FAB-T's one forward/backward (the reference's get_diff_logits_grads_batch_targeted), from a
// recorded forward at x.
Linearization TargetedLinearization(const RecordedForward& at, const torch::Tensor& y,
                                    const torch::Tensor& targets) {
  torch::AutoGradMode enable_grad(true);
  const torch::Tensor f = at.logits.gather(1, targets.unsqueeze(1)).squeeze(1) -
                          at.logits.gather(1, y.unsqueeze(1)).squeeze(1);
  const torch::Tensor grad = torch::autograd::grad({f.sum()}, {at.input})[0];
  return {f.detach(), grad.detach().reshape({at.input.size(0), -1}), 1};
}

// Untargeted FAB's full Jacobian from K backward passes (get_diff_logits_grads_batch): the class
// k != y with the smallest |f_k| / (||grad f_k||_q + 1e-12), f_k = z_k - z_y.
Linearization UntargetedLinearization(const RecordedForward& at, const torch::Tensor& y,
                                      LpNorm norm) {
  torch::AutoGradMode enable_grad(true);
  const torch::Tensor& logits = at.logits;
  const int64_t m = at.input.size(0), k_classes = logits.size(1);
  std::vector<torch::Tensor> grads;
  grads.reserve(k_classes);
  for (int64_t k = 0; k < k_classes; ++k) {
    grads.push_back(torch::autograd::grad({logits.select(1, k).sum()}, {at.input},
                                          /*grad_outputs=*/{}, /*retain_graph=*/k + 1 < k_classes)[0]
                        .detach()
                        .reshape({m, -1}));
  }
  const torch::Tensor g = torch::stack(grads, 1);  // [m, K, D]
  const torch::Tensor z = logits.detach();
  const torch::Tensor rows = torch::arange(m, y.options());
  const torch::Tensor df = z - z.gather(1, y.unsqueeze(1));
  const torch::Tensor dg = g - g.index({rows, y}).unsqueeze(1);
  const torch::Tensor dual =
      norm == LpNorm::kLinf ? dg.abs().sum(2) : dg.pow(2).sum(2).sqrt();
  torch::Tensor dist = df.abs() / (dual + 1e-12);
  dist.scatter_(1, y.unsqueeze(1), std::numeric_limits<float>::infinity());
  const torch::Tensor chosen = dist.argmin(1);
  return {df.gather(1, chosen.unsqueeze(1)).squeeze(1), dg.index({rows, chosen}), k_classes};
}

}  // namespace

torch::Tensor FabProjection(LpNorm norm, const torch::Tensor& t, const torch::Tensor& w,
                            const torch::Tensor& b) {
  TORCH_CHECK(t.dim() == 2 && w.sizes() == t.sizes() && b.dim() == 1 && b.size(0) == t.size(0),
              "FabProjection: t and w must be [B, D] and b [B]");
  if (t.size(0) == 0) return torch::zeros_like(t);
  return norm == LpNorm::kLinf ? ProjectionLinf(t, w, b) : ProjectionL2(t, w, b);
}

absl::Status ValidateFabConfig(const proto::FabConfig& config, absl::string_view path) {
  RETURN_IF_ERROR(attacks_internal::ValidateNorm(config.norm(), absl::StrCat(path, ".norm")));
  if (!config.has_targeted()) {
    return Invalid(path, "targeted", "must be set (true: FAB-T, as standard AutoAttack runs it)");
  }
  for (const auto& [name, has, value] :
       {std::tuple<const char*, bool, int>{"num_iterations", config.has_num_iterations(),
                                           config.num_iterations()},
        {"restarts", config.has_restarts(), config.restarts()}}) {
    if (!has) return Invalid(path, name, "must be set");
    if (value < 1) return Invalid(path, name, absl::StrCat("must be >= 1, got ", value));
  }
  if (!config.has_num_target_classes()) {
    return Invalid(path, "num_target_classes", "must be set (0 unless targeted)");
  }
  if (config.targeted() && config.num_target_classes() < 1) {
    return Invalid(path, "num_target_classes",
                   absl::StrCat("must be >= 1 for FAB-T (AutoAttack: 9), got ",
                                config.num_target_classes()));
  }
  if (!config.targeted() && config.num_target_classes() != 0) {
    return Invalid(path, "num_target_classes",
                   absl::StrCat("must be 0 for untargeted FAB, got ", config.num_target_classes()));
  }
  const struct {
    const char* name;
    bool has;
    double value, lo, hi;
    bool lo_open;
    const char* reference;
  } ranges[] = {
      {"alpha_max", config.has_alpha_max(), config.alpha_max(), 0.0, 1.0, false, "0.1"},
      {"eta", config.has_eta(), config.eta(), 1.0, 1e9, false, "1.05"},
      {"beta", config.has_beta(), config.beta(), 0.0, 1.0, true, "0.9"},
  };
  for (const auto& r : ranges) {
    if (!r.has) return Invalid(path, r.name, absl::StrCat("must be set (AutoAttack: ", r.reference, ")"));
    const bool above = r.lo_open ? r.value > r.lo : r.value >= r.lo;
    if (!(above && r.value <= r.hi)) {
      return Invalid(path, r.name,
                     r.hi >= 1e9 ? absl::StrFormat("must be >= %g, got %g", r.lo, r.value)
                                 : absl::StrFormat("must be in %c%g, %g], got %g",
                                                   r.lo_open ? '(' : '[', r.lo, r.hi, r.value));
    }
  }
  return absl::OkStatus();
}

FabRunResult FabSingleRun(ImageClassifierImpl& model, const torch::Tensor& x0_in,
                          const torch::Tensor& y_in, const torch::Tensor& targets_in,
                          const FabOptions& options, bool random_start, torch::Generator& gen) {
  CHECK_EQ(options.targeted, targets_in.defined())
      << "targets must be given exactly for targeted FAB";
  torch::NoGradGuard no_grad;
  const int64_t n = x0_in.size(0);
  FabRunResult result;
  result.best_norm = torch::full({n}, kNoAdversarial, x0_in.options());
  result.x_adv = x0_in.clone();
  if (n == 0) return result;
  const auto image_shape = x0_in.sizes();
  const float eps = static_cast<float>(options.epsilon);

  // State of the images still iterated, compacted when one is accepted (stop_when_accepted).
  torch::Tensor active = torch::arange(n, x0_in.options().dtype(torch::kLong));
  torch::Tensor x0 = x0_in.reshape({n, -1});
  torch::Tensor y = y_in;
  torch::Tensor targets = targets_in;
  torch::Tensor x1 = x0.clone();
  if (random_start) {
    const torch::Tensor t = options.norm == LpNorm::kLinf
                                ? 2 * torch::rand(image_shape, gen, x0_in.options()) - 1
                                : torch::randn(image_shape, gen, x0_in.options());
    const torch::Tensor flat = t.reshape({n, -1});
    x1 = (x0 + (0.5f * eps) * flat / RowNorm(options.norm, flat).unsqueeze(1)).clamp(0.0, 1.0);
  }
  torch::Tensor best = result.best_norm.clone();
  torch::Tensor adv = x0.clone();
  auto images = [&](const torch::Tensor& flat) {
    std::vector<int64_t> shape(image_shape.begin(), image_shape.end());
    shape[0] = flat.size(0);
    return flat.reshape(shape);
  };

  // The is-adversarial forward of one iteration, kept with its graph as the next iteration's
  // gradient forward when no image moved after it (research/autoattack.md section 7, saving 3:
  // one forward pass per iteration; the same logits, so the same path).
  RecordedForward recorded;
  for (int i = 0; i < options.num_iterations && active.numel() > 0; ++i) {
    const int64_t m = active.numel();
    if (!recorded.input.defined()) {
      recorded = ForwardWithGraph(model, images(x1));
      result.forward_passes += m;
    }
    const Linearization lin = options.targeted
                                  ? TargetedLinearization(recorded, y, targets)
                                  : UntargetedLinearization(recorded, y, options.norm);
    recorded = RecordedForward();
    result.backward_passes += m * lin.backward_passes;
    const torch::Tensor b = (lin.w * x1).sum(1) - lin.f;
    const torch::Tensor d = FabProjection(options.norm, torch::cat({x1, x0}, 0),
                                          torch::cat({lin.w, lin.w}, 0), torch::cat({b, b}, 0));
    const torch::Tensor d1 = d.narrow(0, 0, m), d2 = d.narrow(0, m, m);
    const torch::Tensor a = RowNorm(options.norm, d).clamp_min(1e-8);
    const torch::Tensor a1 = a.narrow(0, 0, m), a2 = a.narrow(0, m, m);
    const torch::Tensor alpha =
        (a1 / (a1 + a2)).clamp_min(0.0).clamp_max(options.alpha_max).unsqueeze(1);
    x1 = ((x1 + options.eta * d1) * (1 - alpha) + (x0 + d2 * options.eta) * alpha)
             .clamp(0.0, 1.0);

    torch::Tensor logits;
    if (i + 1 < options.num_iterations) {
      recorded = ForwardWithGraph(model, images(x1));
      logits = recorded.logits.detach();
    } else {
      logits = model.forward(images(x1));
    }
    const torch::Tensor is_adv = logits.argmax(1).ne(y);
    result.forward_passes += m;
    if (!is_adv.any().item<bool>()) continue;  // x1 unchanged: `recorded` is at x1
    recorded = RecordedForward();  // x1 moves (and rows may go): a fresh forward next time
    const torch::Tensor rho = RowNorm(options.norm, x1 - x0);
    const torch::Tensor better = is_adv.logical_and(rho < best);
    adv = torch::where(better.unsqueeze(1), x1, adv);
    best = torch::where(better, rho, best);
    x1 = torch::where(is_adv.unsqueeze(1), x0 + (x1 - x0) * options.beta, x1);

    if (options.stop_when_accepted) {
      const torch::Tensor accepted = best.le(eps);
      if (!accepted.any().item<bool>()) continue;
      const torch::Tensor rows = accepted.nonzero().view(-1);
      const torch::Tensor index = active.index_select(0, rows);
      result.best_norm.index_copy_(0, index, best.index_select(0, rows));
      result.x_adv.view({n, -1}).index_copy_(0, index, adv.index_select(0, rows));
      const torch::Tensor keep = accepted.logical_not().nonzero().view(-1);
      for (torch::Tensor* s : {&active, &x0, &y, &x1, &best, &adv}) *s = s->index_select(0, keep);
      if (targets.defined()) targets = targets.index_select(0, keep);
    }
  }
  if (active.numel() > 0) {
    result.best_norm.index_copy_(0, active, best);
    // Images never fooled keep their clean image (adv starts as x0 and changes only on success).
    result.x_adv.view({n, -1}).index_copy_(0, active, adv);
  }
  return result;
}

namespace {

FabOptions OptionsFromConfig(const proto::FabConfig& config, double epsilon) {
  const absl::Status valid = ValidateFabConfig(config, "fab");
  CHECK(valid.ok()) << valid;
  const absl::Status eps_valid = ValidatePixelRadius(epsilon, "epsilon");
  CHECK(eps_valid.ok()) << eps_valid;
  FabOptions o;
  o.norm = attacks_internal::ToLpNorm(config.norm());
  o.targeted = config.targeted();
  o.epsilon = epsilon;
  o.num_iterations = config.num_iterations();
  o.restarts = config.restarts();
  o.num_target_classes = config.num_target_classes();
  o.alpha_max = config.alpha_max();
  o.eta = config.eta();
  o.beta = config.beta();
  return o;
}

}  // namespace

Fab::Fab(std::string name, const proto::FabConfig& config, double epsilon)
    : Fab(std::move(name), OptionsFromConfig(config, epsilon)) {}

Fab::Fab(std::string name, const FabOptions& options)
    : name_(std::move(name)), options_(options) {
  CHECK(options_.epsilon > 0.0 && options_.epsilon <= 1.0) << options_.epsilon;
  CHECK_GE(options_.num_iterations, 1);
  CHECK_GE(options_.restarts, 1);
}

torch::Tensor Fab::Perturb(ImageClassifierImpl& model, const torch::Tensor& images,
                           const torch::Tensor& labels, torch::Generator& gen) const {
  attacks_internal::CheckAttackInputs(images, labels);
  attacks_internal::EvalModeGuard eval_mode(model);
  torch::NoGradGuard no_grad;
  const torch::Tensor clean = images.detach();
  torch::Tensor adv = clean.clone();
  const int64_t n = clean.size(0);
  if (n == 0) return adv;
  const torch::Tensor clean_logits = model.forward(clean);
  const int64_t num_classes = clean_logits.size(1);
  TORCH_CHECK(!clean_logits.isnan().any().item<bool>(), "FAB: the model returned NaN logits");
  TORCH_CHECK(num_classes >= 2, "FAB needs at least 2 classes, the model has ", num_classes);
  torch::Tensor robust = clean_logits.argmax(1).eq(labels);
  const float eps = static_cast<float>(options_.epsilon);
  // One run on the still-robust images; the fresh forward and the epsilon test decide.
  attacks_internal::RunOnStillRobust(
      clean_logits, options_.targeted, options_.num_target_classes, options_.restarts, robust,
      [&](const torch::Tensor& index, const torch::Tensor& targets, int restart) {
        const torch::Tensor x = clean.index_select(0, index);
        const torch::Tensor y = labels.index_select(0, index);
        const FabRunResult r = FabSingleRun(model, x, y, targets, options_, restart > 0, gen);
        const torch::Tensor distance =
            RowNorm(options_.norm, (r.x_adv - x).reshape({x.size(0), -1}));
        const torch::Tensor fooled =
            model.forward(r.x_adv).argmax(1).ne(y).logical_and(distance.le(eps));
        const torch::Tensor rows = fooled.nonzero().view(-1);
        const torch::Tensor fooled_index = index.index_select(0, rows);
        adv.index_copy_(0, fooled_index, r.x_adv.index_select(0, rows));
        robust.index_fill_(0, fooled_index, false);
      });
  return adv;
}

}  // namespace robustness
