// The inner attack of PGD adversarial training (PAPER.md 3.6; the paper's models/attacker.py),
// configured by proto::AdversarialTraining (robustness/proto/training.proto):
//   start   x0 = clip(x + u, 0, 1), u ~ U[-eps, eps]^d per image (per_image_uniform), or the
//           paper's per-batch coin (per_batch_coin): one z ~ N(0, 1) for the whole batch; if
//           z > clean_below every image starts from such noise, else every image from x itself.
//   step    x_{k+1} = clip(clip(x_k + step sign(grad L(x_k)), x - eps, x + eps), 0, 1), num_steps
//           times, L the summed per-image cross-entropy of the training targets: hard labels
//           (int64 [N], plain CE: the paper's ResNet) or soft targets (float [N, K], soft-target
//           CE on the MixUp / CutMix targets: the paper's DeiT).
// The model runs in eval mode during the attack (BatchNorm running statistics, no dropout) and
// every module's flag is restored afterwards; parameter gradients are never touched (input
// gradients only), so a caller's accumulated .grad survives. Deterministic given `gen` (CPU).
// Unlike evaluation attacks (attack.h) nothing here keeps a per-image worst case: the last
// iterate is returned, as the paper trains on it.
#ifndef ROBUSTNESS_ATTACKS_TRAINING_PGD_H_
#define ROBUSTNESS_ATTACKS_TRAINING_PGD_H_

#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "robustness/models/image_classifier.h"
#include "robustness/proto/training.pb.h"

namespace robustness {

// OK when every field is set: norm LINF; epsilon in (0, 1] pixel units; step_size > 0 (at most
// 1); num_steps >= 1; a start, with a finite clean_below for per_batch_coin. InvalidArgument
// naming `path` + field and the value otherwise.
absl::Status ValidateAdversarialTraining(const proto::AdversarialTraining& config,
                                         absl::string_view path);

// x_adv (float [N, C, H, W] in [0, 1], no autograd history, ||x_adv - images||_inf <= eps) made
// from images (float [N, C, H, W] in [0, 1], any device) against `targets` (see above).
// Precondition: ValidateAdversarialTraining OK (CHECKed). Draws from `gen`, a CPU generator (the
// draws move to the images' device, as the paper's do): the coin (one normal, per_batch_coin
// only), then the noise (one uniform tensor of images' shape) when the batch starts from noise.
torch::Tensor MakeTrainingAdversarialExamples(ImageClassifierImpl& model,
                                              const torch::Tensor& images,
                                              const torch::Tensor& targets,
                                              const proto::AdversarialTraining& config,
                                              torch::Generator& gen);

}  // namespace robustness

#endif  // ROBUSTNESS_ATTACKS_TRAINING_PGD_H_
