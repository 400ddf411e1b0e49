// Clean and robust accuracy over a test set (PAPER.md 3.7-3.8, Table 1).
//
// For every radius, an image counts as robust only if it is classified correctly clean AND under
// every attack in the list: the per-image worst case across attacks, as AutoAttack aggregates
// (never an average of per-attack accuracies). Each attack alone is also reported.
// Attacks run only on the images that are still correct clean (a misclassified clean image is
// non-robust at every radius), which gives the same numbers for less work.
#ifndef ROBUSTNESS_EVALUATION_ROBUST_ACCURACY_H_
#define ROBUSTNESS_EVALUATION_ROBUST_ACCURACY_H_

#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "robustness/datasets/dataset.h"
#include "robustness/datasets/image_transform.h"
#include "robustness/distributed/world.h"
#include "robustness/models/image_classifier.h"
#include "robustness/proto/evaluation.pb.h"

namespace robustness {

struct AttackAccuracy {
  std::string attack;
  double accuracy = 0;  // in [0, 1]: this attack alone
};

struct RadiusResult {
  double epsilon = 0;              // [0, 1] pixel units
  std::string label;               // "4/255", "0.001"
  double robust_accuracy = 0;      // in [0, 1]: worst case over the attacks
  std::vector<AttackAccuracy> per_attack;
};

struct RobustnessReport {
  int64_t num_images = 0;
  double clean_accuracy = 0;  // in [0, 1]
  std::vector<RadiusResult> radii;
  double seconds = 0;
};

struct EvalOptions {
  std::string name;  // progress label
  int64_t seed = 0;  // attack randomness (random starts, random targets)
  int data_loader_threads = 1;
  torch::Device device = torch::kCPU;
  // The processes evaluating together (robustness/distributed/world.h); null = CurrentWorld().
  // With W > 1 each rank evaluates batches b = rank, rank + W, ... with batch b's seeds and the
  // counts are summed: every rank returns the single-process report.
  std::shared_ptr<World> world;
};

// Radii valid and in (0, 1], attacks valid (ValidateAttackConfig) with distinct names,
// num_images in [0, test_size], batch_size >= 1. Errors name the field.
absl::Status ValidateRobustnessEvalConfig(const proto::RobustnessEvalConfig& config,
                                          int64_t test_size);

// Runs the evaluation on the first num_images images of `test` (all when 0), each passed
// through `eval_transform`. The model is put in eval mode. One (batch, radius) pair is a unit;
// on CPU the units run on one worker per intra-op thread (robustness/base/unit_workers.h).
// Deterministic given options.seed and the thread count (with two or more units, for any thread
// count: each unit runs on one thread).
absl::StatusOr<RobustnessReport> EvaluateRobustness(ImageClassifierImpl& model,
                                                    std::shared_ptr<const Dataset> test,
                                                    const ImageTransform& eval_transform,
                                                    const proto::RobustnessEvalConfig& config,
                                                    const EvalOptions& options);

}  // namespace robustness

#endif  // ROBUSTNESS_EVALUATION_ROBUST_ACCURACY_H_
