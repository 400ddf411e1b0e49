#include "robustness/attacks/texture_patch_attack.h"

#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>

#include <glog/logging.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/rnn.h>
#include <torch/optim/adam.h>

#include "absl/strings/str_cat.h"
#include "robustness/attacks/internal/eval_mode_guard.h"

namespace robustness {
namespace {

using proto::PatchAttackConfig;

absl::Status Invalid(const std::string& field, const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", message));
}

// The agent's policy (sheet section 2): a frozen start embedding, one LSTM cell carried over the
// 5 stages, per stage a Linear head over that action's choices and an embedding of the sampled
// choice for the next stage. Parameters drawn from `gen` with PyTorch's default init laws.
class Policy : public torch::nn::Module {
 public:
  Policy(const std::vector<int64_t>& sizes, int64_t hidden, torch::Generator& gen)
      : sizes_(sizes), hidden_(hidden) {
    torch::NoGradGuard no_grad;
    const double bound = 1.0 / std::sqrt(static_cast<double>(hidden));
    start_ = register_buffer("start", torch::empty({1, hidden}).normal_(0, 1, gen));
    cell_ = register_module("cell", torch::nn::LSTMCell(hidden, hidden));
    for (auto& p : cell_->parameters()) p.uniform_(-bound, bound, gen);
    for (size_t i = 0; i < sizes.size(); ++i) {
      heads_.push_back(register_module(absl::StrCat("head", i),
                                       torch::nn::Linear(hidden, sizes[i])));
      for (auto& p : heads_.back()->parameters()) p.uniform_(-bound, bound, gen);
      if (i + 1 < sizes.size()) {
        embeddings_.push_back(register_module(absl::StrCat("embed", i),
                                              torch::nn::Embedding(sizes[i], hidden)));
        embeddings_.back()->weight.normal_(0, 1, gen);
      }
    }
  }

  // `batch` trajectories: actions int64 [batch, stages], summed log-probabilities [batch].
  std::pair<torch::Tensor, torch::Tensor> Sample(int64_t batch, torch::Generator& gen) {
    torch::Tensor h = torch::zeros({batch, hidden_}), c = torch::zeros({batch, hidden_});
    torch::Tensor input = start_.expand({batch, hidden_});
    std::vector<torch::Tensor> actions;
    torch::Tensor log_prob = torch::zeros({batch});
    for (size_t i = 0; i < sizes_.size(); ++i) {
      std::tie(h, c) = cell_->forward(input, std::make_tuple(h, c));
      const torch::Tensor logp = torch::log_softmax(heads_[i]->forward(h), 1);
      torch::Tensor a;
      {
        torch::NoGradGuard no_grad;
        a = torch::multinomial(logp.exp(), 1, /*replacement=*/true, gen);
      }
      log_prob = log_prob + logp.gather(1, a).squeeze(1);
      actions.push_back(a);
      if (i + 1 < sizes_.size()) input = embeddings_[i]->forward(a.squeeze(1));
    }
    return {torch::cat(actions, 1), log_prob};
  }

 private:
  std::vector<int64_t> sizes_;
  int64_t hidden_;
  torch::Tensor start_;
  torch::nn::LSTMCell cell_{nullptr};
  std::vector<torch::nn::Linear> heads_;
  std::vector<torch::nn::Embedding> embeddings_;
};

// Pastes patch `p` of textures [K, C, T, T] into image x [C, H, W] (both contiguous CPU float).
void PasteOne(float* x, int64_t c, int64_t h, int64_t w, const float* textures, int64_t t,
              const PatchPlacement& p, int64_t side) {
  const float* tex = textures + p.texture * c * t * t;
  for (int64_t ch = 0; ch < c; ++ch) {
    for (int64_t i = 0; i < side; ++i) {
      std::memcpy(x + (ch * h + p.row + i) * w + p.col,
                  tex + (ch * t + p.tex_row + i) * t + p.tex_col, side * sizeof(float));
    }
  }
}

// Undoes PasteOne on x [C, H, W]: the patch's pixels copied back from `original` [C, H, W].
void RestoreOne(float* x, const float* original, int64_t c, int64_t h, int64_t w,
                const PatchPlacement& p, int64_t side) {
  for (int64_t ch = 0; ch < c; ++ch) {
    for (int64_t i = 0; i < side; ++i) {
      const int64_t offset = (ch * h + p.row + i) * w + p.col;
      std::memcpy(x + offset, original + offset, side * sizeof(float));
    }
  }
}

PatchPlacement FromActions(const int64_t* a) { return {a[0], a[1], a[2], a[3], a[4]}; }

// Logits of `images` [B, C, H, W] in chunks, without autograd.
torch::Tensor Query(ImageClassifierImpl& victim, const torch::Tensor& images, int64_t chunk) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> parts;
  for (int64_t b = 0; b < images.size(0); b += chunk) {
    parts.push_back(victim.forward(images.narrow(0, b, std::min(chunk, images.size(0) - b)))
                        .to(torch::kCPU, torch::kFloat));
  }
  return torch::cat(parts, 0);
}

}  // namespace

std::string AreaModeName(PatchAttackConfig::AreaMode mode) {
  return mode == PatchAttackConfig::TOTAL       ? "TOTAL"
         : mode == PatchAttackConfig::PER_PATCH ? "PER_PATCH"
                                                : "UNSPECIFIED";
}

int64_t PatchSide(const PatchAttackConfig& config, int64_t height, int64_t width) {
  const double a = config.area_mode() == PatchAttackConfig::TOTAL
                       ? config.area_fraction() / config.num_patches()
                       : config.area_fraction();
  // The tiny epsilon keeps exact squares (e.g. 0.25 of 16 x 16 = 8^2) from rounding down.
  return static_cast<int64_t>(std::floor(std::sqrt(height * width * a) + 1e-9));
}

double AreaBudget(const PatchAttackConfig& config) {
  return config.area_mode() == PatchAttackConfig::TOTAL
             ? config.area_fraction()
             : config.area_fraction() * config.num_patches();
}

absl::Status ValidatePatchAttackConfig(const PatchAttackConfig& c, const std::string& field,
                                       int64_t image_size, int64_t texture_size,
                                       int64_t num_classes) {
  const std::string f = field.empty() ? "" : field + ".";
  if (c.num_patches() < 1) {
    return Invalid(f + "num_patches", absl::StrCat("must be >= 1, got ", c.num_patches()));
  }
  if (!(c.area_fraction() > 0 && c.area_fraction() < 1)) {
    return Invalid(f + "area_fraction", absl::StrCat("must be in (0, 1), got ", c.area_fraction()));
  }
  if (c.area_mode() == PatchAttackConfig::AREA_MODE_UNSPECIFIED) {
    return Invalid(f + "area_mode", "must be TOTAL or PER_PATCH");
  }
  if (c.goal() == PatchAttackConfig::GOAL_UNSPECIFIED) {
    return Invalid(f + "goal", "must be NON_TARGETED or TARGETED");
  }
  if (c.texture_class() < -1 || c.texture_class() >= num_classes) {
    return Invalid(f + "texture_class", absl::StrCat("must be -1 (random) or in [0, ", num_classes,
                                                     "), got ", c.texture_class()));
  }
  if (num_classes < 2) return Invalid(f + "goal", "needs at least 2 classes");
  if (c.queries_per_step() < 2) {
    return Invalid(f + "queries_per_step",
                   absl::StrCat("must be >= 2 (rewards are standardised), got ",
                                c.queries_per_step()));
  }
  if (c.min_steps() < 3) {
    return Invalid(f + "min_steps",
                   absl::StrCat("must be >= 3 (the curvature test needs 3 steps), got ",
                                c.min_steps()));
  }
  if (c.max_steps() < c.min_steps()) {
    return Invalid(f + "max_steps", absl::StrCat(c.max_steps(), " is below min_steps ",
                                                 c.min_steps()));
  }
  if (!(c.policy_learning_rate() > 0)) {
    return Invalid(f + "policy_learning_rate",
                   absl::StrCat("must be > 0, got ", c.policy_learning_rate()));
  }
  if (!(c.curvature_bound() >= 0)) {
    return Invalid(f + "curvature_bound", absl::StrCat("must be >= 0, got ", c.curvature_bound()));
  }
  if (c.hidden_size() < 1) {
    return Invalid(f + "hidden_size", absl::StrCat("must be >= 1, got ", c.hidden_size()));
  }
  if (c.query_budget() < c.queries_per_step()) {
    return Invalid(f + "query_budget",
                   absl::StrCat(c.query_budget(), " is below one step's queries_per_step ",
                                c.queries_per_step()));
  }
  if (c.eval_batch_size() < 1) {
    return Invalid(f + "eval_batch_size", absl::StrCat("must be >= 1, got ", c.eval_batch_size()));
  }
  const int64_t side = PatchSide(c, image_size, image_size);
  if (side < 1) {
    return Invalid(f + "area_fraction",
                   absl::StrCat(c.area_fraction(), " (", AreaModeName(c.area_mode()), ", ",
                                c.num_patches(), " patches) gives patches of 0 px at ", image_size,
                                " x ", image_size));
  }
  if (side >= image_size || side >= texture_size) {
    return Invalid(f + "area_fraction",
                   absl::StrCat(c.area_fraction(), " gives ", side, " px patches, not smaller than ",
                                "the ", image_size, " px images and ", texture_size,
                                " px textures"));
  }
  return absl::OkStatus();
}

torch::Tensor PastePatches(const torch::Tensor& image, const torch::Tensor& textures,
                           const std::vector<PatchPlacement>& placements, int64_t side) {
  torch::Tensor x = image.to(torch::kCPU, torch::kFloat).contiguous().clone();
  const torch::Tensor t = textures.to(torch::kCPU, torch::kFloat).contiguous();
  for (const PatchPlacement& p : placements) {
    CHECK(p.row >= 0 && p.row + side <= x.size(1) && p.col >= 0 && p.col + side <= x.size(2));
    CHECK(p.texture >= 0 && p.texture < t.size(0));
    CHECK(p.tex_row >= 0 && p.tex_row + side <= t.size(2) && p.tex_col >= 0 &&
          p.tex_col + side <= t.size(3));
    PasteOne(x.data_ptr<float>(), x.size(0), x.size(1), x.size(2), t.data_ptr<float>(), t.size(2),
             p, side);
  }
  return x.to(image.device());
}

TexturePatchAttack::TexturePatchAttack(PatchAttackConfig config) : config_(std::move(config)) {
  CHECK_GE(config_.num_patches(), 1);
  CHECK_GE(config_.queries_per_step(), 2);
  CHECK_GE(config_.min_steps(), 3);
}

TpaOutcome TexturePatchAttack::Run(ImageClassifierImpl& victim, const torch::Tensor& image,
                                   int64_t label, const torch::Tensor& textures, int64_t target,
                                   torch::Generator& gen) const {
  CHECK_EQ(image.dim(), 3);
  CHECK_EQ(textures.dim(), 4);
  CHECK_EQ(textures.size(1), image.size(0));
  const bool targeted = config_.goal() == PatchAttackConfig::TARGETED;
  CHECK(!targeted || (target >= 0 && target != label)) << "targeted TPA needs a target";
  attacks_internal::EvalModeGuard eval(victim);
  const torch::Device device = image.device();
  const int64_t c = image.size(0), h = image.size(1), w = image.size(2), t = textures.size(2);
  const int64_t k = textures.size(0);
  const int64_t side = PatchSide(config_, h, w);
  CHECK(side >= 1 && side < h && side < w && side < t) << "unvalidated TPA config: side " << side;
  const torch::Tensor tex = textures.to(torch::kCPU, torch::kFloat).contiguous();
  const int64_t batch = config_.queries_per_step();
  const int64_t goal_class = targeted ? target : label;
  const float eps = FLT_EPSILON;

  TpaOutcome out;
  out.side = side;
  torch::Tensor current = image.to(torch::kCPU, torch::kFloat).contiguous().clone();
  torch::Tensor covered = torch::zeros({h, w}, torch::kBool);
  for (int agent = 0; agent < config_.num_patches(); ++agent) {
    Policy policy({h - side, w - side, k, t - side, t - side}, config_.hidden_size(), gen);
    torch::optim::Adam adam(policy.parameters(),
                            torch::optim::AdamOptions(config_.policy_learning_rate()));
    double best_reward = -1000;
    bool have_best = false;
    PatchPlacement best;
    std::vector<double> mean_rewards;
    // queries_per_step copies of the current image; each step pastes into them and restores.
    torch::Tensor images = current.unsqueeze(0).repeat({batch, 1, 1, 1});
    for (int step = 0; step < config_.max_steps(); ++step) {
      if (out.queries + batch > config_.query_budget()) {
        out.budget_exhausted = true;
        break;
      }
      auto [actions, log_prob] = policy.Sample(batch, gen);
      // One image per trajectory: the current image with that trajectory's patch, pasted into
      // the agent's copies and undone after the query (only the patches are written per step).
      const int64_t* a = actions.data_ptr<int64_t>();
      float* x = images.data_ptr<float>();
      for (int64_t b = 0; b < batch; ++b) {
        PasteOne(x + b * c * h * w, c, h, w, tex.data_ptr<float>(), t, FromActions(a + b * 5),
                 side);
      }
      const torch::Tensor logits = Query(victim, images.to(device), config_.eval_batch_size());
      for (int64_t b = 0; b < batch; ++b) {
        RestoreOne(x + b * c * h * w, current.data_ptr<float>(), c, h, w, FromActions(a + b * 5),
                   side);
      }
      out.queries += batch;
      ++out.steps;
      const torch::Tensor p = torch::softmax(logits, 1).select(1, goal_class);
      const torch::Tensor reward = targeted ? torch::log(p + eps) : torch::log(1 - p + eps);
      const torch::Tensor predicted = logits.argmax(1);
      const bool any_success = targeted ? (predicted == target).any().item<bool>()
                                        : (predicted != label).any().item<bool>();
      const int64_t top = reward.argmax().item<int64_t>();
      const double top_reward = reward[top].item<double>();
      if (top_reward > best_reward) {
        best_reward = top_reward;
        best = FromActions(a + top * 5);
        have_best = true;
      }
      // REINFORCE: rewards standardised as the reference does over its [batch, 5] return matrix
      // of constant rows (mean and unbiased std over all 5 B entries).
      const double mean = reward.mean().item<double>();
      const double sq = (reward.to(torch::kDouble) - mean).pow(2).sum().item<double>();
      const double std = std::sqrt(5.0 * sq / (5.0 * batch - 1.0));
      const torch::Tensor advantage = (reward - mean) / (std + eps);
      const torch::Tensor loss = -(log_prob * advantage).sum() / static_cast<double>(batch);
      adam.zero_grad();
      loss.backward();
      adam.step();
      mean_rewards.push_back(mean);
      if (step + 1 >= config_.min_steps()) {
        const size_t n = mean_rewards.size();
        const double curvature =
            std::abs(mean_rewards[n - 1] - 2 * mean_rewards[n - 2] + mean_rewards[n - 3]);
        if (any_success || curvature < config_.curvature_bound()) break;
      }
    }
    if (!have_best) break;  // the budget ran out before this agent's first step
    out.patches.push_back(best);
    PasteOne(current.data_ptr<float>(), c, h, w, tex.data_ptr<float>(), t, best, side);
    covered.narrow(0, best.row, side).narrow(1, best.col, side).fill_(true);
    const torch::Tensor logits = Query(victim, current.unsqueeze(0).to(device), 1);
    out.final_prediction = logits.argmax(1).item<int64_t>();
    out.success = targeted ? out.final_prediction == target : out.final_prediction != label;
    out.success_after.push_back(out.success);
    out.queries_after.push_back(out.queries);
    if (out.success || out.budget_exhausted) break;
  }
  if (out.final_prediction < 0) {
    out.final_prediction =
        Query(victim, current.unsqueeze(0).to(device), 1).argmax(1).item<int64_t>();
  }
  while (static_cast<int>(out.success_after.size()) < config_.num_patches()) {
    out.success_after.push_back(out.success);
    out.queries_after.push_back(out.queries);
  }
  out.area = covered.sum().item<double>() / static_cast<double>(h * w);
  out.adversarial = current.to(device);
  return out;
}

}  // namespace robustness
