#include "robustness/attacks/apgd.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <c10/util/Exception.h>
#include <torch/autograd.h>
#include <torch/nn/functional/loss.h>
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

absl::Status Invalid(absl::string_view path, absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ".", field, ": ", what));
}

// The reference's checkpoint constants, computed as Python's int() of a double product.
struct Schedule {
  int first_window;  // n_iter_2
  int min_window;    // n_iter_min
  int decrement;     // size_decr
};

Schedule ScheduleFor(int n) {
  return {std::max(static_cast<int>(0.22 * n), 1), std::max(static_cast<int>(0.06 * n), 1),
          std::max(static_cast<int>(0.03 * n), 1)};
}

// [N] -> [N, 1, 1, 1] (any trailing rank of `like`).
torch::Tensor PerImage(const torch::Tensor& v, const torch::Tensor& like) {
  std::vector<int64_t> shape(like.dim(), 1);
  shape[0] = v.size(0);
  return v.view(shape);
}

torch::Tensor L2Norm(const torch::Tensor& v) {  // [N, ...] -> [N, 1, 1, 1]
  return PerImage(v.pow(2).view({v.size(0), -1}).sum(-1).sqrt(), v);
}

// v / (||v||_p + 1e-12) per image. This file keeps the reference's own formulas (the + 1e-12,
// the radial shrink by min(eps, ||d||)) rather than tensors/projection.h's, which guard zero
// norms and project differently, so the iterates follow the reference's arithmetic.
torch::Tensor Normalize(LpNorm norm, const torch::Tensor& v) {
  const torch::Tensor n = norm == LpNorm::kLinf
                              ? PerImage(std::get<0>(v.abs().view({v.size(0), -1}).max(1)), v)
                              : L2Norm(v);
  return v / (n + 1e-12);
}

torch::Tensor ProjectStep(LpNorm norm, const torch::Tensor& v, const torch::Tensor& x,
                          double eps) {
  if (norm == LpNorm::kLinf) return torch::min(torch::max(v, x - eps), x + eps).clamp(0.0, 1.0);
  const torch::Tensor d = v - x;
  return (x + Normalize(LpNorm::kL2, d) * torch::min(eps * torch::ones_like(x), L2Norm(d)))
      .clamp(0.0, 1.0);
}

torch::Tensor Loss(proto::ApgdLoss loss, const torch::Tensor& logits, const torch::Tensor& y,
                   const torch::Tensor& targets) {
  switch (loss) {
    case proto::CE: {
      namespace F = torch::nn::functional;
      return F::cross_entropy(logits, y, F::CrossEntropyFuncOptions().reduction(torch::kNone));
    }
    case proto::DLR:
      return DlrLoss(logits, y);
    case proto::DLR_TARGETED:
      return TargetedDlrLoss(logits, y, targets);
    default:
      LOG(FATAL) << "unknown ApgdLoss " << loss;
  }
}

struct Evaluation {
  torch::Tensor logits;  // Of the last EOT draw.
  torch::Tensor loss;    // [m], of the last EOT draw.
  torch::Tensor grad;    // Mean over the EOT draws.
};

Evaluation Evaluate(ImageClassifierImpl& model, const torch::Tensor& x_adv,
                    const torch::Tensor& y, const torch::Tensor& targets,
                    const ApgdOptions& options) {
  Evaluation e;
  e.grad = torch::zeros_like(x_adv);
  for (int draw = 0; draw < options.eot_iterations; ++draw) {
    torch::AutoGradMode enable_grad(true);
    torch::Tensor input = x_adv.detach().requires_grad_(true);
    torch::Tensor logits = model.forward(input);
    torch::Tensor loss = Loss(options.loss, logits, y, targets);
    // grad() w.r.t. the input only: parameters' .grad are never touched.
    e.grad += torch::autograd::grad({loss.sum()}, {input})[0].detach();
    e.logits = logits.detach();
    e.loss = loss.detach();
  }
  e.grad /= static_cast<double>(options.eot_iterations);
  return e;
}

// Scatters rows `local` (bool [m]) of `values` into `out` at indices active[local].
void ScatterRows(const torch::Tensor& local, const torch::Tensor& active,
                 const torch::Tensor& values, torch::Tensor& out) {
  const torch::Tensor rows = local.nonzero().view(-1);
  if (rows.numel() == 0) return;
  out.index_copy_(0, active.index_select(0, rows), values.index_select(0, rows));
}

}  // namespace

absl::Status ValidateApgdConfig(const proto::ApgdConfig& config, absl::string_view path) {
  RETURN_IF_ERROR(attacks_internal::ValidateNorm(config.norm(), absl::StrCat(path, ".norm")));
  if (config.loss() != proto::CE && config.loss() != proto::DLR &&
      config.loss() != proto::DLR_TARGETED) {
    return Invalid(path, "loss",
                   absl::StrCat("must be CE, DLR or DLR_TARGETED, got ",
                                proto::ApgdLoss_Name(config.loss()).empty()
                                    ? std::to_string(config.loss())
                                    : proto::ApgdLoss_Name(config.loss())));
  }
  for (const auto& [name, has, value] :
       {std::tuple<const char*, bool, int>{"num_iterations", config.has_num_iterations(),
                                           config.num_iterations()},
        {"restarts", config.has_restarts(), config.restarts()},
        {"eot_iterations", config.has_eot_iterations(), config.eot_iterations()}}) {
    if (!has) return Invalid(path, name, "must be set");
    if (value < 1) return Invalid(path, name, absl::StrCat("must be >= 1, got ", value));
  }
  if (!config.has_num_target_classes()) {
    return Invalid(path, "num_target_classes", "must be set (0 unless loss is DLR_TARGETED)");
  }
  if (config.loss() == proto::DLR_TARGETED && config.num_target_classes() < 1) {
    return Invalid(path, "num_target_classes",
                   absl::StrCat("must be >= 1 for DLR_TARGETED (AutoAttack: 9), got ",
                                config.num_target_classes()));
  }
  if (config.loss() != proto::DLR_TARGETED && config.num_target_classes() != 0) {
    return Invalid(path, "num_target_classes",
                   absl::StrCat("must be 0 for the untargeted losses, got ",
                                config.num_target_classes()));
  }
  if (!config.has_rho()) return Invalid(path, "rho", "must be set (AutoAttack: 0.75)");
  if (!(config.rho() > 0.0 && config.rho() <= 1.0)) {
    return Invalid(path, "rho", absl::StrFormat("must be in (0, 1], got %g", config.rho()));
  }
  return absl::OkStatus();
}

std::vector<int> ApgdCheckpointSteps(int num_iterations) {
  CHECK_GE(num_iterations, 1);
  const Schedule s = ScheduleFor(num_iterations);
  std::vector<int> steps;
  for (int step = s.first_window, window = s.first_window; step <= num_iterations;) {
    steps.push_back(step);
    window = std::max(window - s.decrement, s.min_window);
    step += window;
  }
  return steps;
}

torch::Tensor DlrLoss(const torch::Tensor& logits, const torch::Tensor& labels) {
  TORCH_CHECK(logits.size(1) >= 3, "the DLR loss needs at least 3 classes, the model has ",
              logits.size(1));
  auto [sorted, order] = logits.sort(/*dim=*/1);
  const int64_t k = logits.size(1);
  const torch::Tensor top_is_label = order.select(1, k - 1).eq(labels).to(logits.dtype());
  const torch::Tensor z_y = logits.gather(1, labels.view({-1, 1})).view(-1);
  return -(z_y - sorted.select(1, k - 2) * top_is_label -
           sorted.select(1, k - 1) * (1.0 - top_is_label)) /
         (sorted.select(1, k - 1) - sorted.select(1, k - 3) + 1e-12);
}

torch::Tensor TargetedDlrLoss(const torch::Tensor& logits, const torch::Tensor& labels,
                              const torch::Tensor& targets) {
  TORCH_CHECK(logits.size(1) >= 4, "the targeted DLR loss needs at least 4 classes, the model has ",
              logits.size(1));
  const torch::Tensor sorted = std::get<0>(logits.sort(/*dim=*/1));
  const int64_t k = logits.size(1);
  const torch::Tensor z_y = logits.gather(1, labels.view({-1, 1})).view(-1);
  const torch::Tensor z_t = logits.gather(1, targets.view({-1, 1})).view(-1);
  return -(z_y - z_t) /
         (sorted.select(1, k - 1) - 0.5 * (sorted.select(1, k - 3) + sorted.select(1, k - 4)) +
          1e-12);
}

ApgdRunResult ApgdSingleRun(ImageClassifierImpl& model, const torch::Tensor& x_in,
                            const torch::Tensor& y_in, const torch::Tensor& targets_in,
                            const ApgdOptions& options, torch::Generator& gen) {
  CHECK_EQ(options.loss == proto::DLR_TARGETED, targets_in.defined())
      << "targets must be given exactly for DLR_TARGETED";
  torch::NoGradGuard no_grad;
  const int64_t n = x_in.size(0);
  const double eps = options.epsilon;
  const int n_iter = options.num_iterations;
  const auto float_options = x_in.options();
  ApgdRunResult result;
  result.fooled = torch::zeros({n}, x_in.options().dtype(torch::kBool));
  result.loss_best = torch::zeros({n}, float_options);
  result.step_sizes = torch::zeros({n_iter, n}, float_options);
  result.x_adv = x_in.clone();
  if (n == 0) return result;

  // The start.
  torch::Tensor t = options.norm == LpNorm::kLinf
                        ? 2 * torch::rand(x_in.sizes(), gen, float_options) - 1
                        : torch::randn(x_in.sizes(), gen, float_options);
  // State of the images still iterated ("active"), compacted when images are fooled.
  torch::Tensor active = torch::arange(n, x_in.options().dtype(torch::kLong));
  torch::Tensor x = x_in;
  torch::Tensor y = y_in;
  torch::Tensor targets = targets_in;
  torch::Tensor x_adv =
      (x + eps * torch::ones_like(x) * Normalize(options.norm, t)).clamp(0.0, 1.0);
  Evaluation e = Evaluate(model, x_adv, y, targets, options);
  result.forward_passes += x_adv.size(0) * options.eot_iterations;
  if (options.loss != proto::CE) {
    result.zero_gradient_images =
        e.grad.abs().view({n, -1}).sum(1).eq(0).sum().item<int64_t>();
  }
  torch::Tensor grad = e.grad;
  torch::Tensor acc = e.logits.argmax(1).eq(y);
  torch::Tensor x_best = x_adv.clone();
  torch::Tensor grad_best = grad.clone();
  torch::Tensor loss_best = e.loss.clone();
  torch::Tensor step = 2.0 * eps * torch::ones({n}, float_options);  // alpha = 2 (L-inf, L2)
  torch::Tensor x_adv_old = x_adv.clone();
  torch::Tensor loss_steps = torch::zeros({n_iter, n}, float_options);
  torch::Tensor loss_best_last_check = loss_best.clone();
  torch::Tensor reduced_last_check = torch::ones_like(loss_best);
  const Schedule schedule = ScheduleFor(n_iter);
  int window = schedule.first_window;
  int since_check = 0;

  // Marks fooled images and (stop_when_fooled) drops them from every state tensor.
  auto retire_fooled = [&]() {
    const torch::Tensor fooled = acc.logical_not();
    if (!fooled.any().item<bool>()) return;
    ScatterRows(fooled, active, torch::ones_like(fooled), result.fooled);
    if (!options.stop_when_fooled) return;
    ScatterRows(fooled, active, loss_best, result.loss_best);
    const torch::Tensor keep = acc.nonzero().view(-1);
    for (torch::Tensor* s : {&active, &x, &y, &x_adv, &grad, &acc, &x_best, &grad_best,
                             &loss_best, &step, &x_adv_old, &loss_best_last_check,
                             &reduced_last_check}) {
      *s = s->index_select(0, keep);
    }
    if (targets.defined()) targets = targets.index_select(0, keep);
    loss_steps = loss_steps.index_select(1, keep);
  };
  ScatterRows(acc.logical_not(), active, x_adv, result.x_adv);  // a misclassified start
  retire_fooled();

  for (int i = 0; i < n_iter && active.numel() > 0; ++i) {
    const torch::Tensor momentum = x_adv - x_adv_old;
    x_adv_old = x_adv.clone();
    const double a = i > 0 ? 0.75 : 1.0;
    const torch::Tensor eta = PerImage(step, x_adv);
    torch::Tensor u = options.norm == LpNorm::kLinf
                          ? x_adv + eta * torch::sign(grad)
                          : x_adv + eta * Normalize(LpNorm::kL2, grad);
    u = ProjectStep(options.norm, u, x, eps);
    x_adv = ProjectStep(options.norm, x_adv + (u - x_adv) * a + momentum * (1 - a), x, eps);
    const torch::Tensor iterate = x_adv;
    result.step_sizes[i].index_copy_(0, active, step);

    e = Evaluate(model, x_adv, y, targets, options);
    result.forward_passes += x_adv.size(0) * options.eot_iterations;
    grad = e.grad;
    const torch::Tensor pred = e.logits.argmax(1).eq(y);
    acc = acc.logical_and(pred);
    // The reference's x_best_adv: the latest misclassified iterate.
    ScatterRows(pred.logical_not(), active, iterate, result.x_adv);
    loss_steps[i] = e.loss;
    const torch::Tensor improved = e.loss > loss_best;
    const torch::Tensor improved4 = PerImage(improved, x_adv);
    x_best = torch::where(improved4, x_adv, x_best);
    grad_best = torch::where(improved4, grad, grad_best);
    loss_best = torch::where(improved, e.loss, loss_best);

    if (++since_check == window) {
      // c1: the loss rose in at most rho * window of the window's steps (index -1 wraps to the
      // last row of loss_steps, as Python's indexing does).
      torch::Tensor rises = torch::zeros_like(loss_best);
      for (int c = 0; c < window; ++c) {
        const int now = i - c, before = ((i - c - 1) % n_iter + n_iter) % n_iter;
        rises += (loss_steps[now] > loss_steps[before]).to(rises.dtype());
      }
      const torch::Tensor oscillating =
          (rises <= static_cast<float>(window * options.rho)).to(rises.dtype());
      // c2: not halved at the last check and no strict improvement since.
      const torch::Tensor stalled =
          (1.0 - reduced_last_check) * (loss_best_last_check >= loss_best).to(rises.dtype());
      const torch::Tensor flag = torch::max(oscillating, stalled);
      reduced_last_check = flag.clone();
      loss_best_last_check = loss_best.clone();
      const torch::Tensor halve = flag > 0;
      step = torch::where(halve, step / 2.0, step);
      const torch::Tensor halve4 = PerImage(halve, x_adv);
      x_adv = torch::where(halve4, x_best, x_adv);
      grad = torch::where(halve4, grad_best, grad);
      window = std::max(window - schedule.decrement, schedule.min_window);
      since_check = 0;
    }
    retire_fooled();
  }
  // Images never fooled: their highest-loss point.
  if (active.numel() > 0) {
    ScatterRows(acc, active, x_best, result.x_adv);
    result.loss_best.index_copy_(0, active, loss_best);
  }
  return result;
}

namespace {

ApgdOptions OptionsFromConfig(const proto::ApgdConfig& config, double epsilon) {
  const absl::Status valid = ValidateApgdConfig(config, "apgd");
  CHECK(valid.ok()) << valid;
  const absl::Status eps_valid = ValidatePixelRadius(epsilon, "epsilon");
  CHECK(eps_valid.ok()) << eps_valid;
  ApgdOptions o;
  o.norm = attacks_internal::ToLpNorm(config.norm());
  o.loss = config.loss();
  o.epsilon = epsilon;
  o.num_iterations = config.num_iterations();
  o.restarts = config.restarts();
  o.num_target_classes = config.num_target_classes();
  o.rho = config.rho();
  o.eot_iterations = config.eot_iterations();
  return o;
}

}  // namespace

Apgd::Apgd(std::string name, const proto::ApgdConfig& config, double epsilon)
    : Apgd(std::move(name), OptionsFromConfig(config, epsilon)) {}

Apgd::Apgd(std::string name, const ApgdOptions& options)
    : name_(std::move(name)), options_(options) {
  CHECK(options_.epsilon > 0.0 && options_.epsilon <= 1.0) << options_.epsilon;
  CHECK_GE(options_.num_iterations, 1);
  CHECK_GE(options_.restarts, 1);
  CHECK_GE(options_.eot_iterations, 1);
}

torch::Tensor Apgd::Perturb(ImageClassifierImpl& model, const torch::Tensor& images,
                            const torch::Tensor& labels, torch::Generator& gen) const {
  std::vector<std::string> warnings;
  torch::Tensor adv = PerturbWithWarnings(model, images, labels, gen, &warnings);
  for (const std::string& w : warnings) LOG(WARNING) << w;
  return adv;
}

torch::Tensor Apgd::PerturbWithWarnings(ImageClassifierImpl& model, const torch::Tensor& images,
                                        const torch::Tensor& labels, torch::Generator& gen,
                                        std::vector<std::string>* warnings) const {
  CHECK(warnings != nullptr);
  attacks_internal::CheckAttackInputs(images, labels);
  attacks_internal::EvalModeGuard eval_mode(model);
  torch::NoGradGuard no_grad;
  const torch::Tensor clean = images.detach();
  torch::Tensor adv = clean.clone();
  if (clean.size(0) == 0) return adv;
  const torch::Tensor clean_logits = model.forward(clean);
  const int64_t num_classes = clean_logits.size(1);
  TORCH_CHECK(!clean_logits.isnan().any().item<bool>(), "APGD: the model returned NaN logits");
  TORCH_CHECK(options_.loss != proto::DLR || num_classes >= 3,
              "APGD with the DLR loss needs at least 3 classes, the model has ", num_classes);
  TORCH_CHECK(options_.loss != proto::DLR_TARGETED || num_classes >= 4,
              "APGD-T (targeted DLR) needs at least 4 classes, the model has ", num_classes);
  torch::Tensor robust = clean_logits.argmax(1).eq(labels);
  int64_t zero_gradient_runs = 0;
  // One run on the still-robust images; fooled ones take their adversarial iterate.
  attacks_internal::RunOnStillRobust(
      clean_logits, options_.loss == proto::DLR_TARGETED, options_.num_target_classes,
      options_.restarts, robust,
      [&](const torch::Tensor& index, const torch::Tensor& targets, int /*restart*/) {
        const ApgdRunResult r =
            ApgdSingleRun(model, clean.index_select(0, index), labels.index_select(0, index),
                          targets, options_, gen);
        const torch::Tensor rows = r.fooled.nonzero().view(-1);
        const torch::Tensor fooled_index = index.index_select(0, rows);
        adv.index_copy_(0, fooled_index, r.x_adv.index_select(0, rows));
        robust.index_fill_(0, fooled_index, false);
        zero_gradient_runs += r.zero_gradient_images;
      });
  if (zero_gradient_runs > 0) {
    // check_zero_gradients: counted per run (an image in 9 target runs counts up to 9 times).
    warnings->push_back(absl::StrCat(
        name_, ": ", zero_gradient_runs, " image run(s) of ", clean.size(0),
        " images had an all-zero gradient at the start: the DLR loss may be flat there (check "
        "that the model returns logits, not probabilities)"));
  }
  return adv;
}

}  // namespace robustness
