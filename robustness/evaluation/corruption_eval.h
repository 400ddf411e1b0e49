// Corruption robustness (PAPER.md 3.10, the OOD column "ImageNet-C"; Hendrycks & Dietterich,
// ICLR 2019): top-1 error of a classifier on each corruption and severity, with the summaries
// the literature uses:
//   CE_c (unnormalised) = mean over severities of the error;
//   mCE (unnormalised)  = mean of CE_c over the 15 common corruptions: the paper's number
//                         (Bai et al. 57.9 for ResNet-50; ../shared/PAPER.md 3.10), and over
//                         every evaluated corruption (imagenet_robust.py's 19-way mean);
//   CE_c^f (normalised) = sum_s E^f_{s,c} / sum_s E^b_{s,c}; mCE = 100 x mean over the 15;
//   relative CE_c^f     = sum_s (E^f_{s,c} - E^f_clean) / sum_s (E^b_{s,c} - E^b_clean),
// where the baseline b is AlexNet (AugMix's per-corruption mean errors, clean 0.43478) on
// ImageNet-C, or any model evaluated the same way (NormalizeBy), e.g. a baseline row from the
// store, for data without AlexNet numbers.
#ifndef ROBUSTNESS_EVALUATION_CORRUPTION_EVAL_H_
#define ROBUSTNESS_EVALUATION_CORRUPTION_EVAL_H_

#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "absl/status/statusor.h"
#include "robustness/datasets/dataset.h"
#include "robustness/datasets/image_transform.h"
#include "robustness/distributed/world.h"
#include "robustness/models/image_classifier.h"
#include "robustness/proto/corruption.pb.h"

namespace robustness {

struct CorruptionErrors {
  std::string corruption;            // "gaussian_noise", ...
  std::vector<int> severities;       // as configured
  std::vector<double> errors;        // top-1 error in [0, 1], per severity
  double mean_error = 0;             // CE_c, unnormalised, in [0, 1]
  double normalized_ce = -1;         // percent; -1 when no baseline
  double relative_ce = -1;           // percent; -1 when no baseline
};

struct CorruptionReport {
  int64_t num_images = 0;
  double clean_error = 0;               // in [0, 1]
  std::vector<CorruptionErrors> corruptions;
  double mce_common = -1;               // percent, mean CE over the 15 common ones evaluated
  double mce_all = 0;                   // percent, mean CE over every evaluated corruption
  std::string baseline;                 // "AlexNet", a model's label, or "" (none)
  double normalized_mce = -1;           // percent over the 15; -1 when not defined
  double relative_mce = -1;             // percent over the 15; -1 when not defined
  double seconds = 0;
};

struct CorruptionEvalOptions {
  std::string name;  // progress label
  int threads = 1;   // corruption workers
  torch::Device device = torch::kCPU;
  // The processes evaluating together (robustness/distributed/world.h); null = CurrentWorld().
  // With W > 1 rank r evaluates batches b = r, r + W, ... of the single-process order (clean and
  // every corruption and severity of those images; on-the-fly corruption seeds belong to the
  // image index) and the counts are summed: every rank returns the single-process report.
  std::shared_ptr<World> world;
};

// Names known, severities in 1..5 and distinct, batch_size >= 1, num_images in [0, test_size];
// alexnet_normalized needs the 15 common corruptions at severities 1..5. Errors name the field.
absl::Status ValidateCorruptionEvalConfig(const proto::CorruptionEvalConfig& config,
                                          int64_t test_size);

// Evaluates `model` (eval mode) on the first num_images of `test`. Clean images pass through
// `eval_transform`; on-the-fly corruption applies after it (ImageNet-C is made from resized,
// cropped images); pre-rendered sets are read as they are. AlexNet summaries are filled when
// configured.
absl::StatusOr<CorruptionReport> EvaluateCorruptions(ImageClassifierImpl& model,
                                                     std::shared_ptr<const Dataset> test,
                                                     const ImageTransform& eval_transform,
                                                     const proto::CorruptionEvalConfig& config,
                                                     const CorruptionEvalOptions& options);

// Fills normalized / relative CE and mCE of `report` against `baseline` (same corruptions and
// severities, CHECKed), labelled `baseline_name`.
void NormalizeBy(const CorruptionReport& baseline, const std::string& baseline_name,
                 CorruptionReport* report);

// The AlexNet mean error of a common corruption (AugMix's ALEXNET_ERR), -1 for the extras.
double AlexNetMeanError(const std::string& corruption);
inline constexpr double kAlexNetCleanError = 0.43478;

// results.md section: one row per corruption (errors per severity in %, CE, normalised CE).
std::string RenderCorruptionMarkdown(const std::string& title, const CorruptionReport& report);

// A corruption x severity heat map of the error (%), SVG text.
std::string RenderCorruptionHeatMap(const std::string& title, const CorruptionReport& report);

}  // namespace robustness

#endif  // ROBUSTNESS_EVALUATION_CORRUPTION_EVAL_H_
