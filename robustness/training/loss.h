// Classification losses (PAPER.md 3.3: label smoothing 0.1 in the DeiT recipe).
#ifndef ROBUSTNESS_TRAINING_LOSS_H_
#define ROBUSTNESS_TRAINING_LOSS_H_

#include <torch/types.h>

namespace robustness {

// Mean cross-entropy between logits [N, K] (float) and integer labels [N] (int64, in [0, K)),
// against smoothed targets (1 - s) * onehot + s / K, as timm's LabelSmoothingCrossEntropy.
// smoothing in [0, 1); 0 gives plain cross-entropy. Returns a scalar.
torch::Tensor SmoothedCrossEntropy(const torch::Tensor& logits, const torch::Tensor& labels,
                                   double smoothing);

// timm's SoftTargetCrossEntropy: mean_i sum_c -targets_ic log_softmax(logits_i)_c, logits
// [N, K], targets float [N, K] (rows sum to 1; MixUp / CutMix targets, robustness/augmentation/
// mixup.h). Returns a scalar. With targets SmoothedOneHot(labels, K, s) it equals
// SmoothedCrossEntropy(logits, labels, s).
torch::Tensor SoftTargetCrossEntropy(const torch::Tensor& logits, const torch::Tensor& targets);

}  // namespace robustness

#endif  // ROBUSTNESS_TRAINING_LOSS_H_
