#include "robustness/training/loss.h"

#include <ATen/ATen.h>

namespace robustness {

torch::Tensor SmoothedCrossEntropy(const torch::Tensor& logits, const torch::Tensor& labels,
                                   double smoothing) {
  const torch::Tensor log_probs = at::log_softmax(logits, /*dim=*/1);
  const torch::Tensor nll = -log_probs.gather(1, labels.unsqueeze(1)).squeeze(1);
  if (smoothing == 0.0) return nll.mean();
  const torch::Tensor uniform = -log_probs.mean(/*dim=*/1);
  return ((1.0 - smoothing) * nll + smoothing * uniform).mean();
}

torch::Tensor SoftTargetCrossEntropy(const torch::Tensor& logits, const torch::Tensor& targets) {
  return (-targets * at::log_softmax(logits, /*dim=*/1)).sum(/*dim=*/1).mean();
}

}  // namespace robustness
