// Knowledge distillation losses (PAPER.md 3.11; timm_recipes.md section 7, DeiT's losses.py).
//
// The paper distils DeiT-S into ResNet-50 ("Res50*-Distill") and ResNet-50* into DeiT-S with the
// DeiT recipe and "soft" distillation. total = (1 - alpha) base + alpha KD, where base is the
// recipe's own loss on the student's class head and KD is, on the distillation head (a DeiT with
// a distillation token) or on the one output (every other student):
//   SOFT: tau^2 sum_c q_c (log q_c - log p_c), q = softmax(teacher / tau), p = softmax(student /
//         tau), reduced over the batch by BATCH_MEAN (mean over images, the paper's KL) or
//         DEIT_ELEMENT_MEAN (divided by N x K, DeiT's quirk: 1 / K of BATCH_MEAN);
//   HARD: cross-entropy of the student against argmax_c teacher.
// The teacher runs in eval mode without gradients on the same (augmented, mixed, adversarial)
// inputs as the student.
#ifndef ROBUSTNESS_TRAINING_DISTILLATION_H_
#define ROBUSTNESS_TRAINING_DISTILLATION_H_

#include <torch/types.h>

#include "absl/status/status.h"
#include "robustness/proto/model_run.pb.h"

namespace robustness {

// student_logits, teacher_logits: float [N, K] (same shape, CHECKed); tau > 0 (CHECKed).
// Returns a scalar; gradients flow into student_logits only (the teacher's are detached).
torch::Tensor SoftDistillationLoss(const torch::Tensor& student_logits,
                                   const torch::Tensor& teacher_logits, double tau,
                                   proto::DistillationConfig::KlReduction reduction);

// Mean cross-entropy of student_logits [N, K] against teacher_logits.argmax(1). Scalar.
torch::Tensor HardDistillationLoss(const torch::Tensor& student_logits,
                                   const torch::Tensor& teacher_logits);

// The KD term of `config` (kind SOFT or HARD).
torch::Tensor DistillationTerm(const proto::DistillationConfig& config,
                               const torch::Tensor& student_logits,
                               const torch::Tensor& teacher_logits);

// Range checks, errors naming the field: a teacher set, kind set, alpha in [0, 1], tau > 0
// (finite), kl_reduction set (BATCH_MEAN under HARD, where it is unused). A stored teacher must
// not itself be distilled. `student_classes` > 0 also checks the teacher's num_classes against it.
absl::Status ValidateDistillationConfig(const proto::DistillationConfig& config,
                                        int student_classes);

}  // namespace robustness

#endif  // ROBUSTNESS_TRAINING_DISTILLATION_H_
