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
  if (config.norm() != proto::LINF && config.norm() != proto::L2) {
    return Invalid(path, "norm",
                   absl::StrCat("must be LINF or L2, got ", proto::Norm_Name(config.norm())));
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

namespace {

// The images of one run still above margin 0 ("active"), compacted as they fall to <= 0.
struct ActiveImages {
  torch::Tensor index, x, y, x_best, margin_min, loss_min, queries;

  // After the start query (result holds it): the images with margin > 0.
  ActiveImages(const SquareRunResult& result, const torch::Tensor& x_in, const torch::Tensor& y_in)
      : index(result.margin.gt(0).nonzero().view(-1)),
        x(x_in.index_select(0, index)),
        y(y_in.index_select(0, index)),
        x_best(result.x_best.index_select(0, index)),
        margin_min(result.margin.index_select(0, index)),
        loss_min(margin_min.clone()),
        queries(result.queries.index_select(0, index)) {}

  // One query's margins: counts it, keeps strict loss improvements and margins <= 0. Returns the
  // accepted images (bool [m]).
  torch::Tensor Accept(const torch::Tensor& margin) {
    queries += 1;
    const torch::Tensor improved = margin.lt(loss_min);
    loss_min = torch::where(improved, margin, loss_min);
    const torch::Tensor accepted = improved.logical_or(margin.le(0));
    margin_min = torch::where(accepted, margin, margin_min);
    return accepted;
  }

  // Writes the images whose margin fell to <= 0 into `result` and drops them.
  void Retire(SquareRunResult* result) {
    const torch::Tensor done = margin_min.le(0);
    if (!done.any().item<bool>()) return;
    Write(done.nonzero().view(-1), result);
    const torch::Tensor keep = done.logical_not().nonzero().view(-1);
    for (torch::Tensor* t : {&index, &x, &y, &x_best, &margin_min, &loss_min, &queries}) {
      *t = t->index_select(0, keep);
    }
  }

  // Writes the images still active (the budget is spent) into `result`.
  void Flush(SquareRunResult* result) const {
    if (index.numel() > 0) Write(torch::arange(index.numel(), index.options()), result);
  }

 private:
  void Write(const torch::Tensor& rows, SquareRunResult* result) const {
    const torch::Tensor where = index.index_select(0, rows);
    result->x_best.index_copy_(0, where, x_best.index_select(0, rows));
    result->margin.index_copy_(0, where, margin_min.index_select(0, rows));
    result->queries.index_copy_(0, where, queries.index_select(0, rows));
  }
};

// The start query: x_best = start, one query each. False when every margin is already < 0 (the
// reference returns then).
bool StartRun(ImageClassifierImpl& model, const torch::Tensor& start, const torch::Tensor& y,
              SquareRunResult* result) {
  result->x_best = start;
  result->margin = MarginLoss(model.forward(start), y);
  result->queries = torch::ones({start.size(0)}, y.options().dtype(torch::kLong));
  return !result->margin.lt(0).all().item<bool>();
}

// An empty run's result.
SquareRunResult EmptyRun(const torch::Tensor& x_in) {
  SquareRunResult result;
  result.queries = torch::zeros({0}, x_in.options().dtype(torch::kLong));
  result.x_best = x_in.clone();
  result.margin = torch::zeros({0}, x_in.options());
  return result;
}

// R(a, b) of SquareL2Eta, unit L2 (an empty a x b stays empty).
torch::Tensor EtaRectangles(int64_t a, int64_t b) {
  torch::Tensor delta = torch::zeros({a, b});
  int64_t c0 = a / 2, c1 = b / 2;  // x_c - 1, y_c - 1 with x_c = a // 2 + 1
  for (int64_t k = 0; k < std::max(a / 2 + 1, b / 2 + 1); ++k, --c0, --c1) {
    const int64_t r0 = std::max<int64_t>(c0, 0), r1 = std::min(c0 + 2 * k + 1, a);
    const int64_t q0 = std::max<int64_t>(c1, 0), q1 = std::min(c1 + 2 * k + 1, b);
    if (r1 > r0 && q1 > q0) {
      delta.narrow(0, r0, r1 - r0).narrow(1, q0, q1 - q0) +=
          torch::tensor(1.0f / static_cast<float>((k + 1) * (k + 1)));
    }
  }
  return delta / delta.pow(2).sum().sqrt();
}

// ||v||_2 per image, [n, ...] -> [n, 1, 1, 1].
torch::Tensor ImageNorm(const torch::Tensor& v) {
  return v.pow(2).view({v.size(0), -1}).sum(-1).sqrt().view({-1, 1, 1, 1});
}

// ||v||_2 per image and channel over the last two dimensions, keepdim.
torch::Tensor ChannelNorm(const torch::Tensor& v) { return v.pow(2).sum({-2, -1}, true).sqrt(); }

SquareRunResult SquareSingleRunL2(ImageClassifierImpl& model, const torch::Tensor& x_in,
                                  const torch::Tensor& y_in, const SquareOptions& options,
                                  torch::Generator& gen) {
  const int64_t n = x_in.size(0), c = x_in.size(1), h = x_in.size(2), w = x_in.size(3);
  const double eps = options.epsilon;
  const auto float_options = x_in.options();
  SquareRunResult result;
  // The start: tiles of eta(s0) times a sign per image and channel.
  const int64_t s0 = h / 5;
  CHECK_GE(s0, 1) << "the L2 Square Attack needs images of at least 5 rows, got " << h;
  torch::Tensor delta_init = torch::zeros_like(x_in);
  const int64_t start = (h - s0 * 5) / 2;
  for (int64_t i = 0, vh = start; i < h / s0; ++i, vh += s0) {
    for (int64_t j = 0, vw = start; j < w / s0; ++j, vw += s0) {
      const torch::Tensor eta = SquareL2Eta(s0, gen, float_options).view({1, 1, s0, s0});
      const torch::Tensor sign = RandomSigns({n, c, 1, 1}, gen, float_options);
      // Tiles past the image's edge are cut (the reference fails there instead).
      const int64_t th = std::min(s0, h - vh), tw = std::min(s0, w - vw);
      if (th <= 0 || tw <= 0) continue;
      delta_init.narrow(2, vh, th).narrow(3, vw, tw) +=
          (eta * sign).narrow(2, 0, th).narrow(3, 0, tw);
    }
  }
  if (!StartRun(model,
                (x_in + delta_init / (ImageNorm(delta_init) + 1e-12) * eps).clamp(0.0, 1.0),
                y_in, &result)) {
    return result;
  }
  ActiveImages a(result, x_in, y_in);
  const double features_per_channel = static_cast<double>(c * h * w);
  for (int i = 0; i < options.num_queries && a.index.numel() > 0; ++i) {
    const int64_t m = a.index.numel();
    torch::Tensor delta = a.x_best - a.x;
    const double p = SquareFraction(i, options.p_init);
    int64_t s = std::max<int64_t>(
        static_cast<int64_t>(std::nearbyint(std::sqrt(p * features_per_channel / c))), 3);
    if (s % 2 == 0) ++s;
    s = std::min(s, std::min(h, w));
    const int64_t vh = RandomOffset(h - s, gen, float_options);
    const int64_t vw = RandomOffset(w - s, gen, float_options);
    const torch::Tensor window1 = delta.narrow(2, vh, s).narrow(3, vw, s);
    const torch::Tensor norms_window_1 = ChannelNorm(window1);
    const int64_t vh2 = RandomOffset(h - s, gen, float_options);
    const int64_t vw2 = RandomOffset(w - s, gen, float_options);
    const torch::Tensor norms_image = ImageNorm(delta);
    torch::Tensor mask = torch::zeros({1, 1, h, w}, float_options);
    mask.narrow(2, vh, s).narrow(3, vw, s).fill_(1.0);
    mask.narrow(2, vh2, s).narrow(3, vw2, s).fill_(1.0);
    const torch::Tensor norms_windows = ChannelNorm(delta * mask);
    torch::Tensor new_deltas =
        torch::ones({m, c, s, s}, float_options) *
        (SquareL2Eta(s, gen, float_options).view({1, 1, s, s}) *
         RandomSigns({m, c, 1, 1}, gen, float_options));
    new_deltas += window1 / (1e-12 + norms_window_1);
    new_deltas = new_deltas / (1e-12 + ChannelNorm(new_deltas)) *
                 (torch::max((eps * torch::ones_like(new_deltas)).pow(2) - norms_image.pow(2),
                             torch::zeros_like(new_deltas)) /
                      c +
                  norms_windows.pow(2))
                     .sqrt();
    delta.narrow(2, vh2, s).narrow(3, vw2, s).zero_();
    delta.narrow(2, vh, s).narrow(3, vw, s).copy_(new_deltas);
    const torch::Tensor x_new =
        (a.x + delta / (ImageNorm(delta) + 1e-12) * eps).clamp(0.0, 1.0);
    const torch::Tensor accepted = a.Accept(MarginLoss(model.forward(x_new), a.y));
    a.x_best = torch::where(accepted.view({-1, 1, 1, 1}), x_new, a.x_best);
    a.Retire(&result);
  }
  a.Flush(&result);
  return result;
}

SquareRunResult SquareSingleRunLinf(ImageClassifierImpl& model, const torch::Tensor& x_in,
                                    const torch::Tensor& y_in, const SquareOptions& options,
                                    torch::Generator& gen) {
  const int64_t n = x_in.size(0), c = x_in.size(1), h = x_in.size(2), w = x_in.size(3);
  const double eps = options.epsilon;
  const auto float_options = x_in.options();
  SquareRunResult result;
  if (!StartRun(model, (x_in + eps * RandomSigns({n, c, 1, w}, gen, float_options)).clamp(0.0, 1.0),
                y_in, &result)) {
    return result;
  }
  ActiveImages a(result, x_in, y_in);
  const float step = static_cast<float>(2.0 * eps);
  const double features_per_channel = static_cast<double>(c * h * w);
  for (int i = 0; i < options.num_queries && a.index.numel() > 0; ++i) {
    const double p = SquareFraction(i, options.p_init);
    int64_t s = std::max<int64_t>(
        static_cast<int64_t>(std::nearbyint(std::sqrt(p * features_per_channel / c))), 1);
    s = std::min(s, std::min(h, w));
    const int64_t vh = RandomOffset(h - s, gen, float_options);
    const int64_t vw = RandomOffset(w - s, gen, float_options);
    const torch::Tensor signs = RandomSigns({c, 1, 1}, gen, float_options);
    // Only the window changes: outside it x_best already equals its clip, so the reference's
    // whole-image clips are the identity there.
    torch::Tensor window = a.x_best.narrow(2, vh, s).narrow(3, vw, s);
    const torch::Tensor saved = window.clone();
    const torch::Tensor centre = a.x.narrow(2, vh, s).narrow(3, vw, s);
    window.copy_(torch::min(torch::max(saved + step * signs, centre - eps), centre + eps)
                     .clamp(0.0, 1.0));
    const torch::Tensor accepted = a.Accept(MarginLoss(model.forward(a.x_best), a.y));
    // Rejected images get their window back.
    window.copy_(torch::where(accepted.view({-1, 1, 1, 1}), window, saved));
    a.Retire(&result);
  }
  a.Flush(&result);
  return result;
}

}  // namespace

torch::Tensor SquareL2Eta(int64_t s, torch::Generator& gen, const torch::TensorOptions& options) {
  CHECK_GE(s, 1);
  torch::Tensor delta = torch::zeros({s, s}, options);
  delta.narrow(0, 0, s / 2).copy_(EtaRectangles(s / 2, s));
  delta.narrow(0, s / 2, s - s / 2).copy_(-EtaRectangles(s - s / 2, s));
  delta = delta / delta.pow(2).sum().sqrt();
  if (torch::rand({1}, gen, options).item<float>() > 0.5f) delta = delta.t().contiguous();
  return delta;
}

SquareRunResult SquareSingleRun(ImageClassifierImpl& model, const torch::Tensor& x,
                                const torch::Tensor& y, const SquareOptions& options,
                                torch::Generator& gen) {
  torch::NoGradGuard no_grad;
  if (x.size(0) == 0) return EmptyRun(x);
  return options.norm == LpNorm::kL2 ? SquareSingleRunL2(model, x, y, options, gen)
                                     : SquareSingleRunLinf(model, x, y, options, gen);
}

Square::Square(std::string name, const proto::SquareConfig& config, double epsilon)
    : Square(std::move(name),
             SquareOptions{epsilon, config.num_queries(), config.p_init(), config.restarts(),
                           config.norm() == proto::L2 ? LpNorm::kL2 : LpNorm::kLinf}) {
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
