// RandAugment as timm 0.3.2 (PAPER.md 3.3: the DeiT recipe's rand-m9-mstd0.5-inc1; timm_recipes.md
// section 1): n ops drawn from timm's list of 15 (the default or the "increasing" one), each
// firing with probability 0.5 at a magnitude redrawn from N(m, mstd) and clipped to [0, 10], with
// Pillow's integer semantics (pil_ops.h).
//
// Randomness is ours, not Python's: the draws (gate, magnitude noise, sign, interpolation, op
// choice) are made in timm's order from a ScalarRandom, so distributions match timm while the
// streams do not (no C++ port can share CPython's Mersenne Twister state with numpy's).
#ifndef ROBUSTNESS_AUGMENTATION_RAND_AUGMENT_H_
#define ROBUSTNESS_AUGMENTATION_RAND_AUGMENT_H_

#include <string>
#include <vector>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "robustness/augmentation/pil_ops.h"
#include "robustness/augmentation/uint8_image.h"
#include "robustness/base/scalar_random.h"

namespace robustness {

// Every op of timm 0.3.2's _RAND_TRANSFORMS and _RAND_INCREASING_TRANSFORMS.
enum class RandAugmentOp {
  kAutoContrast, kEqualize, kInvert, kRotate, kPosterize, kPosterizeIncreasing, kSolarize,
  kSolarizeIncreasing, kSolarizeAdd, kColor, kColorIncreasing, kContrast, kContrastIncreasing,
  kBrightness, kBrightnessIncreasing, kSharpness, kSharpnessIncreasing, kShearX, kShearY,
  kTranslateXRel, kTranslateYRel,
};

// timm's name ("PosterizeIncreasing"), and the reverse (NotFound for an unknown name).
absl::string_view RandAugmentOpName(RandAugmentOp op);
absl::StatusOr<RandAugmentOp> RandAugmentOpFromName(absl::string_view name);

// timm's 15-op list in its order: _RAND_TRANSFORMS, or _RAND_INCREASING_TRANSFORMS when
// `increasing` (Posterize, Solarize, Color, Contrast, Brightness, Sharpness replaced in place).
const std::vector<RandAugmentOp>& RandAugmentOpList(bool increasing);

// Whether timm negates the op's argument with probability 1/2 (_randomly_negate).
bool RandAugmentOpIsSigned(RandAugmentOp op);
// Whether the op resamples (and so consumes the interpolation choice).
bool RandAugmentOpIsGeometric(RandAugmentOp op);

// The parsed timm string. Defaults are timm's: n 2, m 10, mstd 0, default list, no weights.
struct RandAugmentParams {
  int num_ops = 2;             // "n"
  int magnitude = 10;          // "m", an int in timm 0.3.2 (clipped to [0, 10] when applied)
  double magnitude_std = 0.0;  // "mstd"; the first mstd token wins (timm's setdefault)
  bool increasing = false;     // "inc": ANY value enables it, inc0 included, as in timm 0.3.2
  bool weighted = false;       // "w0": _RAND_CHOICE_WEIGHTS_0, ops drawn without replacement
};

// Parses timm's string, e.g. "rand-m9-mstd0.5-inc1" (DeiT, the paper) or "rand-n2-m9-mstd0.5".
// Tokens split on '-'; the first must be "rand"; each later token is a key (leading non-digits)
// and a value (from the first digit on). InvalidArgument, naming the token and the string, for:
// a first token other than "rand"; a key timm 0.3.2 does not know (mmax and p arrived later,
// so they are errors here as they are assertion failures there); a value that does not parse
// (m and n are ints, mstd a float >= 0); n < 1; a weight index other than 0; and a token
// without a value, which timm silently skips (our deviation: "rand-inc" would otherwise be
// a recipe that silently runs without the increasing list).
absl::StatusOr<RandAugmentParams> ParseRandAugmentSpec(absl::string_view spec);

// The canonical string of `params` ("rand-n2-m9-mstd0.5-inc1"); parses back to equal params.
std::string FormatRandAugmentSpec(const RandAugmentParams& params);

// How geometric ops resample: fixed (timm with hparams['interpolation'], DeiT: bicubic) or a
// per-call choice of bilinear / bicubic (timm's default when the train interpolation is random).
enum class RandAugmentInterpolation { kBilinear, kBicubic, kRandom };

struct RandAugmentOptions {
  RandAugmentParams params;
  RandAugmentInterpolation interpolation = RandAugmentInterpolation::kBicubic;
  // Fill of geometric ops, one value per image channel: timm's img_mean, per channel
  // min(255, round(255 x mean)) of the normalisation mean: (124, 116, 104) for ImageNet.
  std::vector<uint8_t> fill;
};

// One op at `level` in [0, 10] (already clipped; CHECKed), with its random sign already drawn
// (`negate`, ignored by unsigned ops) and the resampling filter. The level -> argument mapping
// of timm_recipes.md 1.4: e.g. Rotate +-30 level/10 degrees, PosterizeIncreasing
// 4 - int(4 level/10) bits, ColorIncreasing 1 +- 0.9 level/10, TranslateXRel +-0.45 level/10 W px.
Uint8Image ApplyRandAugmentOp(const Uint8Image& image, RandAugmentOp op, double level, bool negate,
                              Resample resample, const std::vector<uint8_t>& fill);

// The ops of one RandAugment call, in application order: np.random.choice's semantics, i.e.
// num_ops uniform draws with replacement from the list, or (w0) weighted draws without
// replacement, each renormalising the weights of the ops left.
std::vector<RandAugmentOp> ChooseRandAugmentOps(const RandAugmentParams& params,
                                                ScalarRandom& random);

// RandAugment on one image: num_ops ops drawn (with replacement, or weighted without), each then
// gated with p 0.5, its level gauss(m, mstd) clipped to [0, 10], its sign and (geometric ops with
// kRandom) its filter drawn, in timm's order. `fill` must have image.channels values (CHECKed).
Uint8Image RandAugment(const Uint8Image& image, const RandAugmentOptions& options,
                       ScalarRandom& random);

// The same on float32 [C, H, W] in [0, 1]: quantised to uint8 (round), augmented, back to float
// (v / 255). When no op fires the input tensor is returned unchanged (not re-quantised).
torch::Tensor RandAugment(const torch::Tensor& image, const RandAugmentOptions& options,
                          ScalarRandom& random);

}  // namespace robustness

#endif  // ROBUSTNESS_AUGMENTATION_RAND_AUGMENT_H_
