// Accuracy under the Texture Patch Attack (PAPER.md 3.9, Tables 3-4; research/patch_attack.md
// section 5): the first num_images test images, one attack each (attacks/texture_patch_attack.h)
// with textures of one class of the dictionary. Acc_TPA = the fraction whose attacked image is
// still classified correctly: 1 - the non-targeted success rate over all evaluated images, with
// clean-misclassified images counted as wrong. Those are not attacked here (the reference runs
// the attack on them, which "succeeds" after its 3-step minimum): the accuracy is the same, and
// their 0 queries are left out of the query statistics, which cover attacked images only.
//
// Per image i the randomness comes from DeriveSeed(seed, {kPatchAttackStream, i}), drawn in this
// order: the target (targeted only: uniform over the classes other than the label), the texture
// class (texture_class -1: uniform over the classes other than the label when non-targeted; the
// target itself when targeted, drawing nothing), then the agents. So an image's outcome does not
// depend on which other images are evaluated.
#ifndef ROBUSTNESS_EVALUATION_PATCH_ATTACK_EVAL_H_
#define ROBUSTNESS_EVALUATION_PATCH_ATTACK_EVAL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "robustness/datasets/dataset.h"
#include "robustness/datasets/image_transform.h"
#include "robustness/distributed/world.h"
#include "robustness/models/image_classifier.h"
#include "robustness/proto/patch_attack.pb.h"
#include "robustness/textures/texture_dictionary.h"

namespace robustness {

struct PatchAttackImage {
  int64_t index = 0, label = 0, clean_prediction = 0, final_prediction = 0;
  bool attacked = false;   // clean-correct, so attacked
  bool success = false;    // the attack's own success flag
  int64_t texture_class = -1, target = -1;
  int64_t queries = 0, patches = 0;
  int64_t side = 0;        // patch side in px (attacked images)
  double area = 0;         // union of the patches / image area
  std::vector<bool> success_after;  // per agent budget k = 1..N
};

struct PatchAttackReport {
  int64_t num_images = 0;
  double clean_accuracy = 0;          // [0, 1]
  double tpa_accuracy = 0;            // [0, 1]: still correct after the attack
  double success_rate = 0;            // [0, 1] of the attacked (clean-correct) images
  std::vector<double> accuracy_after; // [0, 1] with a budget of k = 1..N patches
  double mean_queries = 0;            // over successful attacks (0 when none)
  double mean_queries_all = 0;        // over attacked images
  double mean_patches = 0;            // over successful attacks
  double mean_area = 0;               // over successful attacks (fraction of the image)
  double max_area = 0;                // over every attacked image
  int64_t patch_side = 0;
  std::vector<PatchAttackImage> images;
  // The first example_images successfully attacked images and their clean originals, [C, H, W].
  std::vector<std::pair<torch::Tensor, torch::Tensor>> examples;
  double seconds = 0;
};

struct PatchAttackEvalOptions {
  std::string name;  // progress label
  int64_t seed = 0;
  torch::Device device = torch::kCPU;
  // The processes evaluating together (robustness/distributed/world.h); null = CurrentWorld().
  // With W > 1 rank r attacks images i = r, r + W, ... (the seeds belong to i), the per-image
  // records and the first example_images examples are gathered, and every rank returns the
  // single-process report (its sums are formed in image order, as in one process).
  std::shared_ptr<World> world;
};

// Checks num_images in [1, test_size], example_images >= 0 and the attack
// (ValidatePatchAttackConfig); errors name "<field>.<subfield>".
absl::Status ValidatePatchAttackEvalConfig(const proto::PatchAttackEvalConfig& config,
                                           const std::string& field, int64_t test_size,
                                           int64_t image_size, int64_t texture_size,
                                           int64_t num_classes);

absl::StatusOr<PatchAttackReport> EvaluatePatchAttack(ImageClassifierImpl& model,
                                                      const Dataset& test,
                                                      const ImageTransform& eval_transform,
                                                      const TextureDictionary& dictionary,
                                                      const proto::PatchAttackEvalConfig& config,
                                                      const PatchAttackEvalOptions& options);

// Clean image beside attacked image, each upscaled x`scale` (nearest), with a 2 px white gap:
// float32 [C, scale H, 2 scale W + 2], for PNG examples.
torch::Tensor SideBySide(const torch::Tensor& clean, const torch::Tensor& attacked, int64_t scale);

}  // namespace robustness

#endif  // ROBUSTNESS_EVALUATION_PATCH_ATTACK_EVAL_H_
