#include "robustness/augmentation/mixup.h"

#include <ATen/ATen.h>

#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace robustness {
namespace {

struct Box {
  int64_t yl, yh, xl, xh;
};

double Uniform(at::Generator& g) { return at::rand({1}, g, at::kDouble).item<double>(); }

// Beta(a, a) as X / (X + Y), X, Y ~ Gamma(a).
double Beta(double alpha, at::Generator& g) {
  const at::Tensor shape = at::full({2}, alpha, at::kDouble);
  const at::Tensor xy = at::_standard_gamma(shape, g);
  const double x = xy[0].item<double>(), y = xy[1].item<double>();
  return x + y > 0 ? x / (x + y) : 0.5;
}

int64_t RandInt(int64_t low, int64_t high, at::Generator& g) {  // [low, high)
  return at::randint(low, high, {1}, g, at::kLong).item<int64_t>();
}

bool UsesMinMax(const proto::MixupConfig& c) {
  return c.cutmix_minmax().min() != 0 || c.cutmix_minmax().max() != 0;
}

int64_t Clip(int64_t v, int64_t high) { return std::min(std::max<int64_t>(v, 0), high); }

// timm's rand_bbox / rand_bbox_minmax and cutmix_bbox_and_lam: the box and the corrected lam.
Box CutmixBox(int64_t h, int64_t w, double* lam, const proto::MixupConfig& c, at::Generator& g) {
  Box b;
  const bool minmax = UsesMinMax(c);
  if (minmax) {
    const double lo = c.cutmix_minmax().min(), hi = c.cutmix_minmax().max();
    const int64_t cut_h = RandInt(int64_t(h * lo), int64_t(h * hi), g);
    const int64_t cut_w = RandInt(int64_t(w * lo), int64_t(w * hi), g);
    b.yl = RandInt(0, h - cut_h, g);
    b.xl = RandInt(0, w - cut_w, g);
    b.yh = b.yl + cut_h;
    b.xh = b.xl + cut_w;
  } else {
    const double cut_rat = std::sqrt(1.0 - *lam);
    const int64_t cut_h = static_cast<int64_t>(h * cut_rat);
    const int64_t cut_w = static_cast<int64_t>(w * cut_rat);
    const int64_t cy = RandInt(0, h, g);
    const int64_t cx = RandInt(0, w, g);
    b.yl = Clip(cy - cut_h / 2, h);
    b.yh = Clip(cy + cut_h / 2, h);
    b.xl = Clip(cx - cut_w / 2, w);
    b.xh = Clip(cx + cut_w / 2, w);
  }
  if (c.correct_lam() || minmax) {
    *lam = 1.0 - static_cast<double>((b.yh - b.yl) * (b.xh - b.xl)) / static_cast<double>(h * w);
  }
  return b;
}

void Paste(at::Tensor& dst, const at::Tensor& src, const Box& b) {  // [C, H, W] each
  using at::indexing::Slice;
  dst.index_put_({Slice(), Slice(b.yl, b.yh), Slice(b.xl, b.xh)},
                 src.index({Slice(), Slice(b.yl, b.yh), Slice(b.xl, b.xh)}));
}

// One (use_cutmix, lam) draw per unit, in timm's order (_params_per_batch / _params_per_elem).
struct Draw {
  bool cutmix = false;
  double lam = 1.0;
};

Draw DrawBatch(const proto::MixupConfig& c, at::Generator& g) {
  Draw d;
  if (Uniform(g) >= c.prob()) return d;
  const double ma = c.mixup_alpha(), ca = c.cutmix_alpha();
  if (ma > 0 && ca > 0) {
    d.cutmix = Uniform(g) < c.switch_prob();
    d.lam = Beta(d.cutmix ? ca : ma, g);
  } else if (ma > 0) {
    d.lam = Beta(ma, g);
  } else {
    d.cutmix = true;
    d.lam = Beta(ca, g);
  }
  return d;
}

std::vector<Draw> DrawElems(int64_t n, const proto::MixupConfig& c, at::Generator& g) {
  std::vector<Draw> d(n);
  const double ma = c.mixup_alpha(), ca = c.cutmix_alpha();
  if (ma > 0 && ca > 0) {
    for (auto& e : d) e.cutmix = Uniform(g) < c.switch_prob();
    std::vector<double> cut(n), mix(n);  // timm draws both arrays, then picks
    for (auto& v : cut) v = Beta(ca, g);
    for (auto& v : mix) v = Beta(ma, g);
    for (int64_t i = 0; i < n; ++i) d[i].lam = d[i].cutmix ? cut[i] : mix[i];
  } else if (ma > 0) {
    for (auto& e : d) e.lam = Beta(ma, g);
  } else {
    for (auto& e : d) {
      e.cutmix = true;
      e.lam = Beta(ca, g);
    }
  }
  for (auto& e : d) {
    if (Uniform(g) >= c.prob()) e = Draw{};
  }
  return d;
}

}  // namespace

absl::Status ValidateMixupConfig(const proto::MixupConfig& c, int batch_size) {
  auto error = [](absl::string_view field, absl::string_view what, auto value) {
    return absl::InvalidArgumentError(
        absl::StrCat("training.mixup.", field, ": ", what, ", got ", value));
  };
  if (!(c.mixup_alpha() >= 0)) return error("mixup_alpha", "must be >= 0", c.mixup_alpha());
  if (!(c.cutmix_alpha() >= 0)) return error("cutmix_alpha", "must be >= 0", c.cutmix_alpha());
  if (UsesMinMax(c)) {
    const double lo = c.cutmix_minmax().min(), hi = c.cutmix_minmax().max();
    if (!(lo > 0) || !(lo < hi) || !(hi <= 1)) {
      return error("cutmix_minmax", "must be min = max = 0 (off) or 0 < min < max <= 1",
                   absl::StrCat("min ", lo, " max ", hi));
    }
    if (c.cutmix_alpha() != 1.0) {
      return error("cutmix_alpha", "must be 1 with cutmix_minmax (timm forces it)",
                   c.cutmix_alpha());
    }
  }
  if (c.mixup_alpha() == 0 && c.cutmix_alpha() == 0) {
    return error("mixup_alpha", "and cutmix_alpha must not both be 0 (use `none {}`)", 0);
  }
  if (!(c.prob() >= 0 && c.prob() <= 1)) return error("prob", "must be in [0, 1]", c.prob());
  if (!(c.switch_prob() >= 0 && c.switch_prob() <= 1)) {
    return error("switch_prob", "must be in [0, 1]", c.switch_prob());
  }
  if (c.mode() == proto::MixupConfig::MODE_UNSPECIFIED) {
    return error("mode", "must be BATCH, PAIR or ELEM", "MODE_UNSPECIFIED");
  }
  if (batch_size % 2 != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "training.batch_size: must be even with training.mixup (samples are paired i with "
        "B - 1 - i, as timm asserts), got ",
        batch_size));
  }
  return absl::OkStatus();
}

torch::Tensor SmoothedOneHot(const torch::Tensor& labels, int64_t num_classes, double smoothing) {
  const double off = smoothing / num_classes;
  const double on = 1.0 - smoothing + off;
  return torch::full({labels.size(0), num_classes}, off,
                     torch::TensorOptions().dtype(torch::kFloat32).device(labels.device()))
      .scatter_(1, labels.view({-1, 1}), on);
}

MixedBatch MixBatch(const torch::Tensor& images, const torch::Tensor& labels,
                    int64_t num_classes, double label_smoothing, const proto::MixupConfig& c,
                    at::Generator& g) {
  CHECK_EQ(images.dim(), 4);
  const int64_t n = images.size(0), h = images.size(2), w = images.size(3);
  CHECK_EQ(n % 2, 0) << "MixBatch needs an even batch (ValidateMixupConfig)";
  const at::Tensor original = images.detach();
  at::Tensor x = original;  // replaced or cloned before anything is written into it
  std::vector<double> lam(n, 1.0);
  switch (c.mode()) {
    case proto::MixupConfig::BATCH: {
      Draw d = DrawBatch(c, g);
      if (d.lam != 1.0) {
        if (d.cutmix) {
          const Box b = CutmixBox(h, w, &d.lam, c, g);
          using at::indexing::Slice;
          x = original.clone();
          x.index_put_({Slice(), Slice(), Slice(b.yl, b.yh), Slice(b.xl, b.xh)},
                       original.index({Slice(), Slice(), Slice(b.yl, b.yh), Slice(b.xl, b.xh)})
                           .flip(0));
        } else {
          x = original.flip(0).mul_(1.0 - d.lam).add_(original, d.lam);  // one new tensor
        }
      }
      std::fill(lam.begin(), lam.end(), d.lam);
      break;
    }
    case proto::MixupConfig::ELEM: {
      x = original.clone();
      std::vector<Draw> draws = DrawElems(n, c, g);
      for (int64_t i = 0; i < n; ++i) {
        Draw& d = draws[i];
        if (d.lam == 1.0) continue;
        const int64_t j = n - 1 - i;
        at::Tensor xi = x[i];
        if (d.cutmix) {
          Paste(xi, original[j], CutmixBox(h, w, &d.lam, c, g));
        } else {
          xi.copy_(original[i] * d.lam + original[j] * (1.0 - d.lam));
        }
        lam[i] = d.lam;
      }
      break;
    }
    case proto::MixupConfig::PAIR: {
      x = original.clone();
      std::vector<Draw> draws = DrawElems(n / 2, c, g);
      for (int64_t i = 0; i < n / 2; ++i) {
        Draw& d = draws[i];
        if (d.lam == 1.0) continue;
        const int64_t j = n - 1 - i;
        at::Tensor xi = x[i], xj = x[j];
        if (d.cutmix) {
          const Box b = CutmixBox(h, w, &d.lam, c, g);
          Paste(xi, original[j], b);
          Paste(xj, original[i], b);
        } else {
          xi.copy_(original[i] * d.lam + original[j] * (1.0 - d.lam));
          xj.copy_(original[j] * d.lam + original[i] * (1.0 - d.lam));
        }
        lam[i] = lam[j] = d.lam;
      }
      break;
    }
    default:
      LOG(FATAL) << "MixBatch: mode not set (ValidateMixupConfig)";
  }
  MixedBatch out;
  out.images = x;
  out.lam = torch::tensor(lam, torch::kFloat64);
  const torch::Tensor l = out.lam.to(torch::kFloat32).to(labels.device()).view({-1, 1});
  out.targets = l * SmoothedOneHot(labels, num_classes, label_smoothing) +
                (1.0f - l) * SmoothedOneHot(labels.flip(0), num_classes, label_smoothing);
  return out;
}

}  // namespace robustness
