// Square Attack, L-inf and L2 (Andriushchenko et al., ECCV 2020), the fourth stage of AutoAttack
// (PAPER.md 3.8), with the semantics of fra31/auto-attack at a392200 (research/autoattack.md
// section 4; written from that sheet): a score-based black box that needs only logits.
//
// One run on images x with labels y, radius eps, Q = num_queries, margin m = z_y - max_{j != y} z_j:
//   start  x_best = clip(x + eps s, 0, 1), s in {-1, +1} per (image, channel, column), constant
//          down each column (vertical stripes); one query gives m_min = L_min = m(x_best).
//          If every m_min < 0 the run ends.
//   i = 0 .. Q-1, on the images with m_min > 0 ("active"):
//          p = p_init / 2^k on the raw index i (k = 0 for i <= 10, 1 for <= 50, 2 for <= 200,
//          3 <= 500, 4 <= 1000, 5 <= 2000, 6 <= 4000, 7 <= 6000, 8 <= 8000, else 9: AutoAttack's
//          resc_schedule = False); side s = min(max(round(sqrt(p H W)), 1), min(H, W)); one window
//          offset (floor((H - s) u), floor((W - s) u)) and one sign per channel, shared by every
//          active image; x_new = clip(clip(x_best + 2 eps sign on the window, x - eps, x + eps),
//          0, 1); one query; the image takes x_new when its margin strictly drops or is <= 0.
//          The loop ends when every margin is <= 0.
// Every coordinate of a result is clip(x +- eps, 0, 1), the vertices of the ball cut by the box,
// up to float rounding ((x - eps) + 2 eps can be an ulp off x + eps, in the reference too).
// Queries per image: at most 1 + Q (the start and one per iteration while active).
//
// L2 (the reference's, research/autoattack.md section 4): the start tiles the image with squares
// of side floor(H/5) from offset floor((H - 5 s)/2), each SquareL2Eta(s) times a sign per image
// and channel, scaled to ||delta||_2 = eps and clipped to [0, 1]. Each step: s = max(round(
// sqrt(p H W)), 3), made odd, at most min(H, W); two windows W1, W2 (offsets drawn as above, in
// the order W1 vertical, W1 horizontal, W2 vertical, W2 horizontal, then eta's transpose draw and
// the [n, C, 1, 1] signs), shared by the active images. Per image and channel, W1's new content is
// eta(s) sign + delta_W1 / (||delta_W1|| + 1e-12), rescaled to norm sqrt(max(eps^2 - ||delta||^2,
// 0) / C + ||delta_{W1 u W2}||^2); W2 is zeroed, then W1 written; x_new = clip(x + eps delta /
// ||delta||_2, 0, 1). Acceptance as for L-inf. Every result has ||x_adv - x||_2 <= eps.
//
// Perturb: one clean forward; for each restart a run on the images still classified correctly,
// from their clean images; a fresh forward on the result decides (argmax != y), fooled images
// take it, the rest stay clean.
//
// Generator use (L-inf): per run, one [N, C, 1, W] draw, then per iteration three draws in the
// order (vertical offset, horizontal offset, channel signs), from `gen` on the images' device (the
// reference draws on the CPU: on CPU a generator seeded like torch.manual_seed(seed) replays it).
#ifndef ROBUSTNESS_ATTACKS_SQUARE_H_
#define ROBUSTNESS_ATTACKS_SQUARE_H_

#include <cstdint>
#include <string>

#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "robustness/attacks/attack.h"
#include "robustness/models/image_classifier.h"
#include "robustness/proto/attack.pb.h"
#include "robustness/tensors/projection.h"

namespace robustness {

// OK when every field is set: norm LINF or L2; num_queries,
// restarts >= 1; p_init in (0, 1]. InvalidArgument naming `path` + field and the value otherwise.
absl::Status ValidateSquareConfig(const proto::SquareConfig& config, absl::string_view path);

struct SquareOptions {
  double epsilon = 0.0;  // Pixel units, in (0, 1].
  int num_queries = 5000;
  double p_init = 0.8;
  int restarts = 1;
  LpNorm norm = LpNorm::kLinf;
};

// The L2 attack's meta-square eta(s) (s >= 1): the top floor(s/2) rows R(floor(s/2), s), the rest
// -R(s - floor(s/2), s), R(a, b) the sum of 1/(k+1)^2 over nested centred squares of side 2k+1
// clipped to a x b, normalised to unit L2; the whole normalised to unit L2, transposed when the
// one draw u ~ U[0, 1) from `gen` (a generator for `options`' device) exceeds 0.5. float32
// [s, s] with `options`.
torch::Tensor SquareL2Eta(int64_t s, torch::Generator& gen,
                          const torch::TensorOptions& options = torch::kFloat);

// p at iteration `i` (0-based) for the schedule above.
double SquareFraction(int i, double p_init);

// Margin z_y - max_{j != y} z_j per image: logits [N, K] (K >= 2), labels int64 [N] -> [N].
torch::Tensor MarginLoss(const torch::Tensor& logits, const torch::Tensor& labels);

struct SquareRunResult {
  torch::Tensor x_best;   // [N, C, H, W]: the accepted point of each image.
  torch::Tensor margin;   // [N]: its margin (<= 0: fooled).
  torch::Tensor queries;  // int64 [N]: model queries spent on each image.
};

// One run (see above) on x (float [N, C, H, W] in [0, 1]) and labels y. No autograd.
SquareRunResult SquareSingleRun(ImageClassifierImpl& model, const torch::Tensor& x,
                                const torch::Tensor& y, const SquareOptions& options,
                                torch::Generator& gen);

class Square : public Attack {
 public:
  // Preconditions (CHECKed): ValidateSquareConfig OK and 0 < epsilon <= 1.
  Square(std::string name, const proto::SquareConfig& config, double epsilon);
  Square(std::string name, const SquareOptions& options);

  std::string name() const override { return name_; }

  // See Attack::Perturb and the top of the file. Cost: up to 1 + (1 + num_queries) + 1 forward
  // passes per image and restart, no backward pass.
  torch::Tensor Perturb(ImageClassifierImpl& model, const torch::Tensor& images,
                        const torch::Tensor& labels, torch::Generator& gen) const override;

 private:
  std::string name_;
  SquareOptions options_;
};

}  // namespace robustness

#endif  // ROBUSTNESS_ATTACKS_SQUARE_H_
