// AutoAttack over a data set (PAPER.md 3.8, Tables 1-2): robustness/attacks/auto_attack.h run
// batch by batch over the first num_images images, at every radius, with the per-stage robust
// accuracy and each image's outcome. One (batch, radius) pair is a unit with its own seed; on CPU
// the units run on as many worker threads as there are intra-op threads, one thread each
// (robustness/base/unit_workers.h; a single unit keeps every thread), so memory is one batch per
// worker. The reference instead re-batches the still-robust images of the whole set per stage.
// Both give each image the same kind of random start (only which stream it comes from differs),
// so flags agree in distribution, not bit for bit. Same config, seed and thread count: the same
// numbers, bit for bit on CPU (with two or more units, also for any thread count).
#ifndef ROBUSTNESS_EVALUATION_AUTO_ATTACK_EVAL_H_
#define ROBUSTNESS_EVALUATION_AUTO_ATTACK_EVAL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "robustness/datasets/dataset.h"
#include "robustness/datasets/image_transform.h"
#include "robustness/evaluation/robust_accuracy.h"
#include "robustness/models/image_classifier.h"
#include "robustness/proto/evaluation.pb.h"

namespace robustness {

// Every field set; norm LINF or L2; radii valid; a version: standard {}, plus {}, or custom with
// >= 1 valid stages of distinct names whose norm is `norm`; num_images in [0, data_size] (data_size < 0: unknown); batch_size >= 1. Errors name
// the field ("auto_attack.stages[1].apgd.rho: ...").
absl::Status ValidateAutoAttackEvalConfig(const proto::AutoAttackEvalConfig& config,
                                          int64_t data_size);

// The stages the config runs: the version's (auto_attack_version.h) or custom's own list.
absl::StatusOr<std::vector<proto::AttackConfig>> AutoAttackEvalStages(
    const proto::AutoAttackEvalConfig& config);

// "STANDARD", "PLUS" or "CUSTOM" (results files).
std::string AutoAttackVersionName(const proto::AutoAttackEvalConfig& config);

struct AutoAttackStageTotals {
  std::string name;
  int64_t robust_after = 0;  // Images robust after this stage, over all batches.
  int64_t attacked = 0;
  int64_t fooled = 0;
  double seconds = 0;
};

struct AutoAttackRadiusResult {
  double epsilon = 0;  // Pixel units.
  std::string label;   // "4/255"
  std::vector<AutoAttackStageTotals> stages;
  int64_t robust = 0;  // After the last stage.
  double max_perturbation = 0;
  // The model checks (first batch) and Square's check (whole set), research/autoattack.md 5.
  std::vector<std::string> warnings;
  torch::Tensor fooled_by;            // int64 [N]: -1 clean error, k stage index, -2 robust.
  torch::Tensor final_prediction;     // int64 [N]
  torch::Tensor x_adv;                // [N, C, H, W] when asked for, else undefined.
};

struct AutoAttackEvalReport {
  int64_t num_images = 0;
  int64_t clean_correct = 0;
  torch::Tensor labels;            // int64 [N]
  torch::Tensor clean_prediction;  // int64 [N]
  std::vector<AutoAttackRadiusResult> radii;
  double seconds = 0;
};

// Runs the evaluation (see above). `keep_adversarial` keeps every x_adv (N images per radius in
// memory). Progress lines per batch with rate and ETA. Deterministic given options.seed.
// Errors: an invalid config, no images ("the data has no images"), a model that returns NaN
// logits (InvalidArgument naming the images), data decode errors.
absl::StatusOr<AutoAttackEvalReport> EvaluateAutoAttack(ImageClassifierImpl& model,
                                                        std::shared_ptr<const Dataset> data,
                                                        const ImageTransform& eval_transform,
                                                        const proto::AutoAttackEvalConfig& config,
                                                        const EvalOptions& options,
                                                        bool keep_adversarial);

}  // namespace robustness

#endif  // ROBUSTNESS_EVALUATION_AUTO_ATTACK_EVAL_H_
