// The Texture Patch Attack (TPA) of PatchAttack (Yang et al., ECCV 2020), the black-box patch
// attack of PAPER.md 3.9 and section 4.2 (Tables 3-4). Algorithm, defaults and the reference's
// pitfalls: research/patch_attack.md sections 2-3 and 7. Textures come from a dictionary
// (robustness/textures/texture_dictionary.h); the victim is only queried (logits), never
// differentiated, so TPA has its own interface instead of Attack's (no epsilon ball; per-image
// query accounting).
//
// One image: up to num_patches agents, one after another; agent i sees the image with the
// patches of agents 1..i-1 pasted. An agent is a fresh policy (a frozen start embedding, an
// LSTM cell of hidden_size, one embedding and one linear-softmax head per action) that samples
// 5 actions per patch autoregressively: row in [0, H-s), column in [0, W-s), texture in [0, K),
// texture row and column in [0, T-s) (the reference's ranges: the last row and column are never
// covered, sheet pitfall 5). Each step samples queries_per_step trajectories, pastes each patch
// by hard replacement (no blending), queries the victim once per trajectory, and takes one Adam
// step of REINFORCE with rewards standardised over the batch. Reward: log(1 - p_y + eps)
// non-targeted, log(p_t + eps) targeted (eps = FLT_EPSILON, p = softmax of the logits). The agent
// keeps its single best-reward trajectory over all steps and stops after step min_steps - 1 or
// later when some trajectory of the step succeeded or the batch-mean reward's second difference
// is below curvature_bound, else after max_steps. Its best patch is pasted, the victim is asked
// once more (not counted) and the attack ends at the first success.
//
// Queries: every trajectory of every step (the reference's count), never more than
// query_budget: a step that would exceed it is not started. Not ported: the reference's on-disk
// result cache (sheet pitfall 1: every image after the first got the first image's patches).
//
// Conventions as attack.h: pixels in [0, 1], the model in eval mode during the call (flags
// restored), all randomness from `gen` (CPU), so the same inputs and generator state give the
// same outcome with a fixed thread count.
#ifndef ROBUSTNESS_ATTACKS_TEXTURE_PATCH_ATTACK_H_
#define ROBUSTNESS_ATTACKS_TEXTURE_PATCH_ATTACK_H_

#include <cstdint>
#include <string>
#include <vector>

#include <torch/types.h>

#include "absl/status/status.h"
#include "robustness/models/image_classifier.h"
#include "robustness/proto/patch_attack.pb.h"

namespace robustness {

// Range checks for images of image_size px, textures of texture_size px and num_classes classes;
// errors read "<field>.<subfield>: ..." (e.g. "tpa.area_fraction: must be in (0, 1), got 1.5").
// Includes the patch side: at least 1 px, smaller than the image and the textures.
absl::Status ValidatePatchAttackConfig(const proto::PatchAttackConfig& config,
                                       const std::string& field, int64_t image_size,
                                       int64_t texture_size, int64_t num_classes);

// Side s of every patch: floor(sqrt(H W a)) with a = area_fraction / num_patches (TOTAL) or
// area_fraction (PER_PATCH). E.g. 224 px, 0.1 TOTAL over 4 patches: 35 (sheet section 2).
int64_t PatchSide(const proto::PatchAttackConfig& config, int64_t height, int64_t width);

// The area budget the config promises, as a fraction of the image: area_fraction (TOTAL) or
// num_patches x area_fraction (PER_PATCH). N s^2 / (H W) never exceeds it.
double AreaBudget(const proto::PatchAttackConfig& config);

// "TOTAL" / "PER_PATCH", for records.
std::string AreaModeName(proto::PatchAttackConfig::AreaMode mode);

struct PatchPlacement {
  int64_t row = 0, col = 0;          // top-left corner in the image
  int64_t texture = 0;               // index into the class's textures
  int64_t tex_row = 0, tex_col = 0;  // top-left corner inside the texture
};

struct TpaOutcome {
  torch::Tensor adversarial;  // float32 [C, H, W]: every placed patch pasted (success or not)
  bool success = false;       // argmax != label (non-targeted) / == target (targeted)
  int64_t final_prediction = -1;
  int64_t queries = 0;        // counted queries
  int64_t steps = 0;          // RL steps over all agents
  bool budget_exhausted = false;
  double area = 0;            // union of the patches / (H W)
  int64_t side = 0;           // patch side in px
  std::vector<PatchPlacement> patches;  // one per agent that ran
  // success_after[k] / queries_after[k]: the outcome with a budget of k + 1 agents (filled
  // forward after the attack stops, as the reference's records).
  std::vector<bool> success_after;
  std::vector<int64_t> queries_after;
};

// Pastes `placements` (side s, textures [K, C, T, T]) onto image [C, H, W]: a new tensor. Later
// patches overwrite earlier ones.
torch::Tensor PastePatches(const torch::Tensor& image, const torch::Tensor& textures,
                           const std::vector<PatchPlacement>& placements, int64_t side);

class TexturePatchAttack {
 public:
  // `config` must have passed ValidatePatchAttackConfig (CHECKed loosely).
  explicit TexturePatchAttack(proto::PatchAttackConfig config);

  // image: float32 [C, H, W] in [0, 1] on the victim's device; label in [0, num_classes);
  // textures: float32 [K, C, T, T] in [0, 1] (one class's dictionary entry); target: the target
  // class when the goal is TARGETED, else -1; gen: a CPU generator.
  TpaOutcome Run(ImageClassifierImpl& victim, const torch::Tensor& image, int64_t label,
                 const torch::Tensor& textures, int64_t target, torch::Generator& gen) const;

  const proto::PatchAttackConfig& config() const { return config_; }

 private:
  proto::PatchAttackConfig config_;
};

}  // namespace robustness

#endif  // ROBUSTNESS_ATTACKS_TEXTURE_PATCH_ATTACK_H_
