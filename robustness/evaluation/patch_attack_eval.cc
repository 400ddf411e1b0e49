#include "robustness/evaluation/patch_attack_eval.h"

#include <chrono>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "robustness/attacks/internal/eval_mode_guard.h"
#include "robustness/attacks/texture_patch_attack.h"
#include "robustness/base/progress.h"
#include "robustness/base/seed.h"
#include "robustness/base/status_macros.h"

namespace robustness {
namespace {

constexpr int64_t kTextureCacheBytes = int64_t{1} << 30;

// Uniform over [0, n) without `skip`.
int64_t OtherClass(int64_t n, int64_t skip, torch::Generator& gen) {
  const int64_t r = torch::randint(n - 1, {1}, gen, torch::kLong).item<int64_t>();
  return r < skip ? r : r + 1;
}

}  // namespace

absl::Status ValidatePatchAttackEvalConfig(const proto::PatchAttackEvalConfig& c,
                                           const std::string& field, int64_t test_size,
                                           int64_t image_size, int64_t texture_size,
                                           int64_t num_classes) {
  const std::string f = field.empty() ? "" : field + ".";
  if (c.num_images() < 1 || c.num_images() > test_size) {
    return absl::InvalidArgumentError(absl::StrCat(f, "num_images: must be in [1, ", test_size,
                                                   "], got ", c.num_images()));
  }
  if (c.example_images() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(f, "example_images: must be >= 0, got ", c.example_images()));
  }
  return ValidatePatchAttackConfig(c.attack(), f + "attack", image_size, texture_size,
                                   num_classes);
}

torch::Tensor SideBySide(const torch::Tensor& clean, const torch::Tensor& attacked,
                         int64_t scale) {
  auto up = [&](const torch::Tensor& x) {
    return x.cpu().repeat_interleave(scale, 1).repeat_interleave(scale, 2);
  };
  const torch::Tensor gap = torch::ones({clean.size(0), clean.size(1) * scale, 2});
  return torch::cat({up(clean), gap, up(attacked)}, 2);
}

absl::StatusOr<PatchAttackReport> EvaluatePatchAttack(ImageClassifierImpl& model,
                                                      const Dataset& test,
                                                      const ImageTransform& eval_transform,
                                                      const TextureDictionary& dictionary,
                                                      const proto::PatchAttackEvalConfig& config,
                                                      const PatchAttackEvalOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const proto::PatchAttackConfig& ac = config.attack();
  const bool targeted = ac.goal() == proto::PatchAttackConfig::TARGETED;
  const TexturePatchAttack attack(ac);
  attacks_internal::EvalModeGuard eval(model);
  PatchAttackReport report;
  report.num_images = config.num_images();
  report.accuracy_after.assign(ac.num_patches(), 0.0);
  int64_t correct = 0, robust = 0, attacked = 0, successes = 0;
  double queries_success = 0, queries_all = 0, patches_success = 0, area_success = 0;
  std::vector<int64_t> robust_after(ac.num_patches(), 0);
  ProgressLine progress(options.name, config.num_images(), "img", 10.0);
  // Each class's textures are read (and SHA-checked) once, up to kTextureCacheBytes in all; at
  // paper scale (18 MB per class) about 50 classes stay loaded.
  std::map<int64_t, torch::Tensor> textures;
  for (int64_t i = 0; i < config.num_images(); ++i) {
    ASSIGN_OR_RETURN(torch::Tensor raw, test.Image(i));
    const torch::Tensor image = (eval_transform ? eval_transform(raw, 0) : raw).to(options.device);
    PatchAttackImage r;
    r.index = i;
    r.label = test.Label(i);
    {
      torch::NoGradGuard no_grad;
      r.clean_prediction = model.forward(image.unsqueeze(0)).argmax(1).item<int64_t>();
    }
    r.final_prediction = r.clean_prediction;
    const int64_t classes = dictionary.manifest().num_classes();
    if (r.clean_prediction == r.label) {
      ++correct;
      ++attacked;
      torch::Generator gen = MakeCpuGenerator(
          DeriveSeed(options.seed, {kPatchAttackStream, static_cast<uint64_t>(i)}));
      if (targeted) r.target = OtherClass(classes, r.label, gen);
      r.texture_class = ac.texture_class() >= 0 ? ac.texture_class()
                        : targeted              ? r.target
                                                : OtherClass(classes, r.label, gen);
      auto cached = textures.find(r.texture_class);
      if (cached == textures.end()) {
        ASSIGN_OR_RETURN(torch::Tensor t, dictionary.Textures(r.texture_class));
        t = t.to(options.device);
        if (static_cast<int64_t>(textures.size() + 1) * t.nbytes() > kTextureCacheBytes) {
          textures.clear();
        }
        cached = textures.emplace(r.texture_class, t).first;
      }
      const TpaOutcome out = attack.Run(model, image, r.label, cached->second, r.target, gen);
      r.attacked = true;
      r.success = out.success;
      r.final_prediction = out.final_prediction;
      r.queries = out.queries;
      r.patches = static_cast<int64_t>(out.patches.size());
      r.area = out.area;
      r.success_after = out.success_after;
      report.patch_side = out.side;
      queries_all += out.queries;
      report.max_area = std::max(report.max_area, out.area);
      if (out.success) {
        ++successes;
        queries_success += out.queries;
        patches_success += r.patches;
        area_success += out.area;
        if (static_cast<int>(report.examples.size()) < config.example_images()) {
          report.examples.emplace_back(image.cpu(), out.adversarial.cpu());
        }
      }
      // Acc_TPA: still correct. Per budget k: not yet successful (non-targeted: the same
      // thing; targeted: the target not reached after k patches).
      robust += r.final_prediction == r.label;
      for (int k = 0; k < ac.num_patches(); ++k) robust_after[k] += !out.success_after[k];
    }
    report.images.push_back(r);
    progress.Update(i + 1, i + 1,
                    absl::StrFormat("clean %.1f%% | TPA %.1f%% | %.0f queries/img", 100.0 * correct / (i + 1),
                                    100.0 * robust / (i + 1),
                                    attacked > 0 ? queries_all / attacked : 0.0));
  }
  const double n = static_cast<double>(config.num_images());
  report.clean_accuracy = correct / n;
  report.tpa_accuracy = robust / n;
  report.success_rate = attacked > 0 ? static_cast<double>(successes) / attacked : 0;
  for (int k = 0; k < ac.num_patches(); ++k) report.accuracy_after[k] = robust_after[k] / n;
  report.mean_queries = successes > 0 ? queries_success / successes : 0;
  report.mean_queries_all = attacked > 0 ? queries_all / attacked : 0;
  report.mean_patches = successes > 0 ? patches_success / successes : 0;
  report.mean_area = successes > 0 ? area_success / successes : 0;
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace robustness
