#include "robustness/augmentation/rand_augment.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "glog/logging.h"

namespace robustness {
namespace {

using Op = RandAugmentOp;

struct OpInfo {
  Op op;
  const char* name;
};

constexpr OpInfo kOps[] = {
    {Op::kAutoContrast, "AutoContrast"},
    {Op::kEqualize, "Equalize"},
    {Op::kInvert, "Invert"},
    {Op::kRotate, "Rotate"},
    {Op::kPosterize, "Posterize"},
    {Op::kPosterizeIncreasing, "PosterizeIncreasing"},
    {Op::kSolarize, "Solarize"},
    {Op::kSolarizeIncreasing, "SolarizeIncreasing"},
    {Op::kSolarizeAdd, "SolarizeAdd"},
    {Op::kColor, "Color"},
    {Op::kColorIncreasing, "ColorIncreasing"},
    {Op::kContrast, "Contrast"},
    {Op::kContrastIncreasing, "ContrastIncreasing"},
    {Op::kBrightness, "Brightness"},
    {Op::kBrightnessIncreasing, "BrightnessIncreasing"},
    {Op::kSharpness, "Sharpness"},
    {Op::kSharpnessIncreasing, "SharpnessIncreasing"},
    {Op::kShearX, "ShearX"},
    {Op::kShearY, "ShearY"},
    {Op::kTranslateXRel, "TranslateXRel"},
    {Op::kTranslateYRel, "TranslateYRel"},
};

// _RAND_CHOICE_WEIGHTS_0, by position in the (default or increasing) list.
constexpr double kChoiceWeights0[15] = {0.025, 0.005, 0.0, 0.3,  0.0, 0.005, 0.005, 0.025,
                                        0.005, 0.005, 0.025, 0.2, 0.2, 0.1,   0.1};

constexpr double kMaxLevel = 10.0;  // timm 0.3.2's _MAX_LEVEL: level divisor and clip ceiling

absl::Status BadToken(absl::string_view token, absl::string_view spec, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("RandAugment string \"", spec, "\": token \"", token, "\" ", why));
}

Resample DrawResample(RandAugmentInterpolation interpolation, ScalarRandom& random) {
  switch (interpolation) {
    case RandAugmentInterpolation::kBilinear:
      return Resample::kBilinear;
    case RandAugmentInterpolation::kBicubic:
      return Resample::kBicubic;
    case RandAugmentInterpolation::kRandom:
      return random.UniformInt(0, 1) == 0 ? Resample::kBilinear : Resample::kBicubic;
  }
  LOG(FATAL) << "unknown interpolation";
}

// np.random.choice(ops, n, replace=weights is None, p=weights): without replacement, each draw
// renormalises the weights of the ops not yet chosen.
}  // namespace

std::vector<RandAugmentOp> ChooseRandAugmentOps(const RandAugmentParams& params,
                                                ScalarRandom& random) {
  const std::vector<Op>& list = RandAugmentOpList(params.increasing);
  std::vector<Op> chosen;
  if (!params.weighted) {
    for (int i = 0; i < params.num_ops; ++i) {
      chosen.push_back(list[random.UniformInt(0, static_cast<int64_t>(list.size()) - 1)]);
    }
    return chosen;
  }
  std::vector<double> w(std::begin(kChoiceWeights0), std::end(kChoiceWeights0));
  for (int i = 0; i < params.num_ops; ++i) {
    double total = 0;
    for (double v : w) total += v;
    CHECK_GT(total, 0.0) << "more weighted RandAugment ops than ops with non-zero weight";
    double u = random.Uniform() * total;
    size_t pick = w.size(), last_nonzero = 0;
    for (size_t k = 0; k < w.size() && pick == w.size(); ++k) {
      if (w[k] == 0.0) continue;
      last_nonzero = k;
      if (u < w[k]) pick = k;
      u -= w[k];
    }
    if (pick == w.size()) pick = last_nonzero;  // rounding at the top end
    chosen.push_back(list[pick]);
    w[pick] = 0.0;
  }
  return chosen;
}

absl::string_view RandAugmentOpName(RandAugmentOp op) {
  for (const OpInfo& info : kOps) {
    if (info.op == op) return info.name;
  }
  LOG(FATAL) << "unknown RandAugment op";
}

absl::StatusOr<RandAugmentOp> RandAugmentOpFromName(absl::string_view name) {
  for (const OpInfo& info : kOps) {
    if (name == info.name) return info.op;
  }
  return absl::NotFoundError(absl::StrCat("unknown RandAugment op \"", name, "\""));
}

const std::vector<RandAugmentOp>& RandAugmentOpList(bool increasing) {
  static const auto* kDefault = new std::vector<Op>{
      Op::kAutoContrast, Op::kEqualize,  Op::kInvert,     Op::kRotate,   Op::kPosterize,
      Op::kSolarize,     Op::kSolarizeAdd, Op::kColor,    Op::kContrast, Op::kBrightness,
      Op::kSharpness,    Op::kShearX,    Op::kShearY,     Op::kTranslateXRel, Op::kTranslateYRel};
  static const auto* kIncreasing = new std::vector<Op>{
      Op::kAutoContrast,         Op::kEqualize,           Op::kInvert,
      Op::kRotate,               Op::kPosterizeIncreasing, Op::kSolarizeIncreasing,
      Op::kSolarizeAdd,          Op::kColorIncreasing,     Op::kContrastIncreasing,
      Op::kBrightnessIncreasing, Op::kSharpnessIncreasing, Op::kShearX,
      Op::kShearY,               Op::kTranslateXRel,       Op::kTranslateYRel};
  return increasing ? *kIncreasing : *kDefault;
}

bool RandAugmentOpIsSigned(RandAugmentOp op) {
  switch (op) {
    case Op::kRotate:
    case Op::kShearX:
    case Op::kShearY:
    case Op::kTranslateXRel:
    case Op::kTranslateYRel:
    case Op::kColorIncreasing:
    case Op::kContrastIncreasing:
    case Op::kBrightnessIncreasing:
    case Op::kSharpnessIncreasing:
      return true;
    default:
      return false;
  }
}

bool RandAugmentOpIsGeometric(RandAugmentOp op) {
  return op == Op::kRotate || op == Op::kShearX || op == Op::kShearY ||
         op == Op::kTranslateXRel || op == Op::kTranslateYRel;
}

absl::StatusOr<RandAugmentParams> ParseRandAugmentSpec(absl::string_view spec) {
  const std::vector<absl::string_view> tokens = absl::StrSplit(spec, '-');
  if (tokens.empty() || tokens[0] != "rand") {
    return absl::InvalidArgumentError(absl::StrCat(
        "RandAugment string \"", spec, "\": must start with \"rand\" (e.g. rand-m9-mstd0.5-inc1)"));
  }
  RandAugmentParams params;
  bool have_std = false;
  for (size_t i = 1; i < tokens.size(); ++i) {
    const absl::string_view token = tokens[i];
    size_t digit = 0;
    while (digit < token.size() && !std::isdigit(static_cast<unsigned char>(token[digit]))) {
      ++digit;
    }
    if (digit == token.size()) {
      return BadToken(token, spec,
                      "has no value (timm 0.3.2 would silently ignore it; write e.g. inc1, m9)");
    }
    const absl::string_view key = token.substr(0, digit), value = token.substr(digit);
    if (key == "m" || key == "n" || key == "w") {
      int v;
      if (!absl::SimpleAtoi(value, &v)) return BadToken(token, spec, "needs an integer value");
      if (key == "m") {
        params.magnitude = v;
      } else if (key == "n") {
        if (v < 1) return BadToken(token, spec, "needs n >= 1");
        params.num_ops = v;
      } else {
        if (v != 0) return BadToken(token, spec, "names a weight set other than 0 (only w0 exists)");
        params.weighted = true;
      }
    } else if (key == "mstd") {
      double v;
      if (!absl::SimpleAtod(value, &v) || !std::isfinite(v) || v < 0) {
        return BadToken(token, spec, "needs a float >= 0");
      }
      if (!have_std) params.magnitude_std = v;  // timm: hparams.setdefault
      have_std = true;
    } else if (key == "inc") {
      params.increasing = true;  // timm 0.3.2 tests the value string, so inc0 enables it too
    } else {
      return BadToken(token, spec,
                      absl::StrCat("has unknown key \"", key,
                                   "\" (timm 0.3.2 knows m, n, mstd, w, inc; mmax and p came later)"));
    }
  }
  if (params.weighted && params.num_ops > 13) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RandAugment string \"", spec, "\": w0 draws without replacement from 13 weighted ops, n=",
        params.num_ops));
  }
  return params;
}

std::string FormatRandAugmentSpec(const RandAugmentParams& p) {
  std::string s = absl::StrCat("rand-n", p.num_ops, "-m", p.magnitude);
  if (p.magnitude_std > 0) absl::StrAppend(&s, "-mstd", p.magnitude_std);
  if (p.weighted) absl::StrAppend(&s, "-w0");
  if (p.increasing) absl::StrAppend(&s, "-inc1");
  return s;
}

Uint8Image ApplyRandAugmentOp(const Uint8Image& image, RandAugmentOp op, double level, bool negate,
                              Resample resample, const std::vector<uint8_t>& fill) {
  CHECK_GE(level, 0.0);
  CHECK_LE(level, kMaxLevel);
  const double f = level / kMaxLevel;
  const double sign = negate && RandAugmentOpIsSigned(op) ? -1.0 : 1.0;
  switch (op) {
    case Op::kAutoContrast:
      return AutoContrast(image);
    case Op::kEqualize:
      return Equalize(image);
    case Op::kInvert:
      return Invert(image);
    case Op::kRotate:
      return Rotate(image, sign * 30.0 * f, resample, fill);
    case Op::kPosterize:
      return Posterize(image, static_cast<int>(f * 4));
    case Op::kPosterizeIncreasing:
      return Posterize(image, 4 - static_cast<int>(f * 4));
    case Op::kSolarize:
      return Solarize(image, static_cast<int>(f * 256));
    case Op::kSolarizeIncreasing:
      return Solarize(image, 256 - static_cast<int>(f * 256));
    case Op::kSolarizeAdd:
      return SolarizeAdd(image, static_cast<int>(f * 110));
    case Op::kColor:
      return Enhance(image, Enhancement::kColor, f * 1.8 + 0.1);
    case Op::kContrast:
      return Enhance(image, Enhancement::kContrast, f * 1.8 + 0.1);
    case Op::kBrightness:
      return Enhance(image, Enhancement::kBrightness, f * 1.8 + 0.1);
    case Op::kSharpness:
      return Enhance(image, Enhancement::kSharpness, f * 1.8 + 0.1);
    case Op::kColorIncreasing:
      return Enhance(image, Enhancement::kColor, 1.0 + sign * f * 0.9);
    case Op::kContrastIncreasing:
      return Enhance(image, Enhancement::kContrast, 1.0 + sign * f * 0.9);
    case Op::kBrightnessIncreasing:
      return Enhance(image, Enhancement::kBrightness, 1.0 + sign * f * 0.9);
    case Op::kSharpnessIncreasing:
      return Enhance(image, Enhancement::kSharpness, 1.0 + sign * f * 0.9);
    case Op::kShearX:
      return Affine(image, {1, sign * 0.3 * f, 0, 0, 1, 0}, resample, fill);
    case Op::kShearY:
      return Affine(image, {1, 0, 0, sign * 0.3 * f, 1, 0}, resample, fill);
    case Op::kTranslateXRel:
      return Affine(image, {1, 0, sign * 0.45 * f * image.width, 0, 1, 0}, resample, fill);
    case Op::kTranslateYRel:
      return Affine(image, {1, 0, 0, 0, 1, sign * 0.45 * f * image.height}, resample, fill);
  }
  LOG(FATAL) << "unknown RandAugment op";
}

namespace {

// Applies the chosen ops; `image` is produced only when the first op fires (so that a float
// input nobody touched is returned as it was).
template <typename GetImage>
std::optional<Uint8Image> RunOps(GetImage get_image, const RandAugmentOptions& options,
                                 ScalarRandom& random) {
  std::optional<Uint8Image> out;
  for (Op op : ChooseRandAugmentOps(options.params, random)) {
    if (random.Uniform() > 0.5) continue;  // AugmentOp: prob 0.5
    double level = options.params.magnitude;
    if (options.params.magnitude_std > 0) level = random.Gauss(level, options.params.magnitude_std);
    level = std::min(kMaxLevel, std::max(0.0, level));
    const bool negate = RandAugmentOpIsSigned(op) && random.Uniform() > 0.5;
    const Resample resample = RandAugmentOpIsGeometric(op)
                                  ? DrawResample(options.interpolation, random)
                                  : Resample::kBilinear;
    if (!out) out = get_image();
    *out = ApplyRandAugmentOp(*out, op, level, negate, resample, options.fill);
  }
  return out;
}

}  // namespace

Uint8Image RandAugment(const Uint8Image& image, const RandAugmentOptions& options,
                       ScalarRandom& random) {
  CHECK_EQ(static_cast<int64_t>(options.fill.size()), image.channels);
  std::optional<Uint8Image> out = RunOps([&] { return image; }, options, random);
  return out ? *std::move(out) : image;
}

torch::Tensor RandAugment(const torch::Tensor& image, const RandAugmentOptions& options,
                          ScalarRandom& random) {
  CHECK_EQ(image.dim(), 3);
  CHECK_EQ(static_cast<int64_t>(options.fill.size()), image.size(0));
  std::optional<Uint8Image> out = RunOps([&] { return ToUint8Image(image); }, options, random);
  return out ? ToFloatTensor(*out) : image;
}

}  // namespace robustness
