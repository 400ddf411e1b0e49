#include "robustness/attacks/square.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include <torch/types.h>
#include <torch/utils.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "glog/logging.h"
#include "robustness/attacks/internal/eval_mode_guard.h"
#include "robustness/attacks/internal/input_contract.h"
#include "robustness/attacks/radius.h"

namespace robustness {
namespace {

absl::Status Invalid(absl::string_view path, absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ".", field, ": ", what));
}

// The reference's random_int(0, high): int(high * u), u ~ U[0, 1) in float32.
int64_t RandomOffset(int64_t high, torch::Generator& gen, const torch::TensorOptions& options) {
  const float u = torch::rand({1}, gen, options).item<float>();
  return static_cast<int64_t>(static_cast<float>(high) * u);
}

// sign(2 u - 1), u ~ U[0, 1), of `shape`.
torch::Tensor RandomSigns(at::IntArrayRef shape, torch::Generator& gen,
                          const torch::TensorOptions& options) {
  return torch::sign(2 * torch::rand(shape, gen, options) - 1);
}

}  // namespace

absl::Status ValidateSquareConfig(const proto::SquareConfig& config, absl::string_view path) {
  if (config.norm() == proto::L2) {
    return Invalid(path, "norm", "the L2 Square Attack is not built yet; use LINF");
  }
  if (config.norm() != proto::LINF) {
    return Invalid(path, "norm", absl::StrCat("must be LINF, got ", proto::Norm_Name(config.norm())));
  }
  if (!config.has_num_queries()) return Invalid(path, "num_queries", "must be set (AutoAttack: 5000)");
  if (config.num_queries() < 1) {
    return Invalid(path, "num_queries", absl::StrCat("must be >= 1, got ", config.num_queries()));
  }
  if (!config.has_p_init()) return Invalid(path, "p_init", "must be set (AutoAttack: 0.8)");
  if (!(config.p_init() > 0.0 && config.p_init() <= 1.0)) {
    return Invalid(path, "p_init", absl::StrFormat("must be in (0, 1], got %g", config.p_init()));
  }
  if (!config.has_restarts()) return Invalid(path, "restarts", "must be set (AutoAttack: 1)");
  if (config.restarts() < 1) {
    return Invalid(path, "restarts", absl::StrCat("must be >= 1, got ", config.restarts()));
  }
  return absl::OkStatus();
}

double SquareFraction(int i, double p_init) {
  if (10 < i && i <= 50) return p_init / 2;
  if (50 < i && i <= 200) return p_init / 4;
  if (200 < i && i <= 500) return p_init / 8;
  if (500 < i && i <= 1000) return p_init / 16;
  if (1000 < i && i <= 2000) return p_init / 32;
  if (2000 < i && i <= 4000) return p_init / 64;
  if (4000 < i && i <= 6000) return p_init / 128;
  if (6000 < i && i <= 8000) return p_init / 256;
  if (8000 < i) return p_init / 512;
  return p_init;
}

torch::Tensor MarginLoss(const torch::Tensor& logits, const torch::Tensor& labels) {
  const torch::Tensor index = labels.view({-1, 1});
  const torch::Tensor correct = logits.gather(1, index).view(-1);
  const torch::Tensor others =
      logits.scatter(1, index, -std::numeric_limits<float>::infinity()).amax(1);
  return correct - others;
}

SquareRunResult SquareSingleRun(ImageClassifierImpl& model, const torch::Tensor& x_in,
                                const torch::Tensor& y_in, const SquareOptions& options,
                                torch::Generator& gen) {
  torch::NoGradGuard no_grad;
  const int64_t n = x_in.size(0), c = x_in.size(1), h = x_in.size(2), w = x_in.size(3);
  const double eps = options.epsilon;
  const auto float_options = x_in.options();
  SquareRunResult result;
  result.queries = torch::zeros({n}, x_in.options().dtype(torch::kLong));
  if (n == 0) {
    result.x_best = x_in.clone();
    result.margin = torch::zeros({0}, float_options);
    return result;
  }
  result.x_best =
      (x_in + eps * RandomSigns({n, c, 1, w}, gen, float_options)).clamp(0.0, 1.0);
  result.margin = MarginLoss(model.forward(result.x_best), y_in);
  result.queries.fill_(1);
  if (result.margin.lt(0).all().item<bool>()) return result;

  // State of the images still above margin 0 ("active"), compacted as they fall.
  torch::Tensor active = result.margin.gt(0).nonzero().view(-1);
  torch::Tensor x = x_in.index_select(0, active);
  torch::Tensor y = y_in.index_select(0, active);
  torch::Tensor x_best = result.x_best.index_select(0, active);
  torch::Tensor margin_min = result.margin.index_select(0, active);
  torch::Tensor loss_min = margin_min.clone();
  torch::Tensor queries = result.queries.index_select(0, active);
  const float step = static_cast<float>(2.0 * eps);
  const double features_per_channel = static_cast<double>(c * h * w);
  for (int i = 0; i < options.num_queries && active.numel() > 0; ++i) {
    const double p = SquareFraction(i, options.p_init);
    int64_t s = std::max<int64_t>(
        static_cast<int64_t>(std::nearbyint(std::sqrt(p * features_per_channel / c))), 1);
    s = std::min(s, std::min(h, w));
    const int64_t vh = RandomOffset(h - s, gen, float_options);
    const int64_t vw = RandomOffset(w - s, gen, float_options);
    const torch::Tensor signs = RandomSigns({c, 1, 1}, gen, float_options);
    // Only the window changes: outside it x_best already equals its clip, so the reference's
    // whole-image clips are the identity there.
    torch::Tensor window = x_best.narrow(2, vh, s).narrow(3, vw, s);
    const torch::Tensor saved = window.clone();
    const torch::Tensor centre = x.narrow(2, vh, s).narrow(3, vw, s);
    window.copy_(torch::min(torch::max(saved + step * signs, centre - eps), centre + eps)
                     .clamp(0.0, 1.0));
    const torch::Tensor margin = MarginLoss(model.forward(x_best), y);
    queries += 1;
    const torch::Tensor improved = margin.lt(loss_min);
    loss_min = torch::where(improved, margin, loss_min);
    const torch::Tensor accepted = improved.logical_or(margin.le(0));
    margin_min = torch::where(accepted, margin, margin_min);
    // Rejected images get their window back.
    window.copy_(torch::where(accepted.view({-1, 1, 1, 1}), window, saved));
    const torch::Tensor done = margin_min.le(0);
    if (done.any().item<bool>()) {
      const torch::Tensor rows = done.nonzero().view(-1);
      const torch::Tensor where = active.index_select(0, rows);
      result.x_best.index_copy_(0, where, x_best.index_select(0, rows));
      result.margin.index_copy_(0, where, margin_min.index_select(0, rows));
      result.queries.index_copy_(0, where, queries.index_select(0, rows));
      const torch::Tensor keep = done.logical_not().nonzero().view(-1);
      for (torch::Tensor* t : {&active, &x, &y, &x_best, &margin_min, &loss_min, &queries}) {
        *t = t->index_select(0, keep);
      }
    }
  }
  if (active.numel() > 0) {
    result.x_best.index_copy_(0, active, x_best);
    result.margin.index_copy_(0, active, margin_min);
    result.queries.index_copy_(0, active, queries);
  }
  return result;
}

Square::Square(std::string name, const proto::SquareConfig& config, double epsilon)
    : Square(std::move(name), SquareOptions{epsilon, config.num_queries(), config.p_init(),
                                            config.restarts()}) {
  const absl::Status valid = ValidateSquareConfig(config, "square");
  CHECK(valid.ok()) << valid;
}

Square::Square(std::string name, const SquareOptions& options)
    : name_(std::move(name)), options_(options) {
  CHECK(options_.epsilon > 0.0 && options_.epsilon <= 1.0) << options_.epsilon;
  CHECK_GE(options_.num_queries, 1);
  CHECK_GE(options_.restarts, 1);
}

torch::Tensor Square::Perturb(ImageClassifierImpl& model, const torch::Tensor& images,
                              const torch::Tensor& labels, torch::Generator& gen) const {
  attacks_internal::CheckAttackInputs(images, labels);
  attacks_internal::EvalModeGuard eval_mode(model);
  torch::NoGradGuard no_grad;
  const torch::Tensor clean = images.detach();
  torch::Tensor adv = clean.clone();
  if (clean.size(0) == 0) return adv;
  torch::Tensor robust = model.forward(clean).argmax(1).eq(labels);
  for (int restart = 0; restart < options_.restarts; ++restart) {
    const torch::Tensor index = robust.nonzero().view(-1);
    if (index.numel() == 0) break;
    const torch::Tensor y = labels.index_select(0, index);
    const SquareRunResult r =
        SquareSingleRun(model, clean.index_select(0, index), y, options_, gen);
    // A fresh forward decides, as in the reference.
    const torch::Tensor fooled = model.forward(r.x_best).argmax(1).ne(y);
    const torch::Tensor rows = fooled.nonzero().view(-1);
    const torch::Tensor where = index.index_select(0, rows);
    adv.index_copy_(0, where, r.x_best.index_select(0, rows));
    robust.index_fill_(0, where, false);
  }
  return adv;
}

}  // namespace robustness
