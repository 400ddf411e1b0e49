// MixUp and CutMix on a training batch, as timm 0.3.2's `Mixup` (PAPER.md 3.3, the DeiT recipe;
// ../shared/research/timm_recipes.md section 2).
//
// Sample i is paired with sample B - 1 - i (timm's flip). Modes:
//   BATCH: one decision for the batch: mix with probability `prob`; with both alphas > 0, CutMix
//          with probability `switch_prob`, else MixUp; lam ~ Beta(alpha, alpha).
//   PAIR:  one decision per pair (i, B - 1 - i), applied to both members symmetrically.
//   ELEM:  one decision per sample, mixing it with an unmodified copy of its partner.
// MixUp: x_i <- lam x_i + (1 - lam) x_partner. CutMix: a box of sides int(H sqrt(1 - lam)),
// int(W sqrt(1 - lam)) around a uniform centre, clipped to the image (or, with cutmix_minmax,
// sides drawn in [min, max) of the image side, inside it), filled from the partner; with
// correct_lam (or minmax) lam becomes 1 - box area / image area. Not mixing means lam = 1 (the
// targets are still smoothed, as in timm).
// Targets: lam * t(y_i) + (1 - lam) * t(y_partner), t = (1 - eps) onehot + eps / C.
//
// Deviation from timm, on purpose: every draw comes from the generator passed in (seeded per
// (run seed, epoch, step) by the trainer), not from numpy's global stream, so runs are
// reproducible and independent of data-loader threads; the distributions are timm's.
#ifndef ROBUSTNESS_AUGMENTATION_MIXUP_H_
#define ROBUSTNESS_AUGMENTATION_MIXUP_H_

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include "absl/status/status.h"
#include "robustness/proto/augmentation.pb.h"

namespace robustness {

// Alphas >= 0 and not both 0 (unless minmax is set), prob and switch_prob in [0, 1], minmax
// empty or 0 < min < max <= 1 with cutmix_alpha 1, mode set, batch_size even (timm asserts it).
// Errors name the field ("training.mixup.<field>") and the value.
absl::Status ValidateMixupConfig(const proto::MixupConfig& config, int batch_size);

struct MixedBatch {
  torch::Tensor images;   // float32 [B, C, H, W], same device as the input
  torch::Tensor targets;  // float32 [B, num_classes], rows sum to 1
  torch::Tensor lam;      // float64 [B]: each sample's own weight (1 = not mixed)
};

// `images` float32 [B, C, H, W] (B even; never modified: the result may share its storage when
// nothing is mixed), `labels` int64 [B] in [0, num_classes),
// `label_smoothing` in [0, 1). Draws from `generator` (a CPU generator) only.
MixedBatch MixBatch(const torch::Tensor& images, const torch::Tensor& labels,
                    int64_t num_classes, double label_smoothing,
                    const proto::MixupConfig& config, at::Generator& generator);

// (1 - eps) onehot(labels) + eps / C: float32 [B, num_classes].
torch::Tensor SmoothedOneHot(const torch::Tensor& labels, int64_t num_classes, double smoothing);

}  // namespace robustness

#endif  // ROBUSTNESS_AUGMENTATION_MIXUP_H_
