#include "robustness/evaluation/patch_attack_eval.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <utility>
#include <vector>

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

// Per-image records as one int64 row each (the fields below, then success_after[0..N-1]) and
// their areas, gathered over the ranks and put back in image order.
absl::Status GatherRecords(World& world, int num_patches, std::vector<PatchAttackImage>* images) {
  constexpr int kFields = 11;
  const int64_t n = static_cast<int64_t>(images->size());
  torch::Tensor rows = torch::zeros({n, kFields + num_patches}, torch::kLong);
  torch::Tensor areas = torch::zeros({n}, torch::kDouble);
  auto row = rows.accessor<int64_t, 2>();
  for (int64_t j = 0; j < n; ++j) {
    const PatchAttackImage& r = (*images)[j];
    const int64_t fields[kFields] = {r.index,        r.label,  r.clean_prediction,
                                     r.final_prediction, r.attacked, r.success,
                                     r.texture_class, r.target, r.queries,
                                     r.patches,      r.side};
    for (int k = 0; k < kFields; ++k) row[j][k] = fields[k];
    for (size_t k = 0; k < r.success_after.size(); ++k) row[j][kFields + k] = r.success_after[k];
    areas[j] = r.area;
  }
  ASSIGN_OR_RETURN(const torch::Tensor all_rows, world.AllGather(rows));
  ASSIGN_OR_RETURN(const torch::Tensor all_areas, world.AllGather(areas));
  const torch::Tensor order = all_rows.select(1, 0).argsort();
  const torch::Tensor sorted = all_rows.index_select(0, order);
  const torch::Tensor sorted_areas = all_areas.index_select(0, order);
  auto s = sorted.accessor<int64_t, 2>();
  auto area = sorted_areas.accessor<double, 1>();
  images->clear();
  for (int64_t j = 0; j < sorted.size(0); ++j) {
    PatchAttackImage r;
    r.index = s[j][0];
    r.label = s[j][1];
    r.clean_prediction = s[j][2];
    r.final_prediction = s[j][3];
    r.attacked = s[j][4] != 0;
    r.success = s[j][5] != 0;
    r.texture_class = s[j][6];
    r.target = s[j][7];
    r.queries = s[j][8];
    r.patches = s[j][9];
    r.side = s[j][10];
    r.area = area[j];
    if (r.attacked) {
      for (int k = 0; k < num_patches; ++k) r.success_after.push_back(s[j][kFields + k] != 0);
    }
    images->push_back(std::move(r));
  }
  return absl::OkStatus();
}

// Every rank's first `keep` examples, the global first `keep` by image index kept.
absl::Status GatherExamples(World& world, int64_t keep, std::vector<int64_t>* index,
                            std::vector<std::pair<torch::Tensor, torch::Tensor>>* examples) {
  if (keep == 0) return absl::OkStatus();
  // Examples travel flattened; ranks without one send no rows and learn the shape from the
  // others ([numel, C, H, W] per rank, zeros where none).
  torch::Tensor shape = torch::zeros({1, 4}, torch::kLong);
  if (!examples->empty()) {
    const torch::Tensor& first = examples->front().first;
    shape[0][0] = first.numel();
    for (int64_t k = 0; k < 3 && k < first.dim(); ++k) shape[0][k + 1] = first.size(k);
  }
  ASSIGN_OR_RETURN(const torch::Tensor shapes, world.AllGather(shape));
  const int64_t from = shapes.select(1, 0).argmax().item<int64_t>();
  const int64_t numel = shapes[from][0].item<int64_t>();
  const std::vector<int64_t> image_shape = {shapes[from][1].item<int64_t>(),
                                            shapes[from][2].item<int64_t>(),
                                            shapes[from][3].item<int64_t>()};
  torch::Tensor clean = torch::zeros({static_cast<int64_t>(examples->size()), numel});
  torch::Tensor adversarial = torch::zeros_like(clean);
  for (size_t k = 0; k < examples->size(); ++k) {
    if ((*examples)[k].first.numel() != numel) {
      return absl::InvalidArgumentError(
          "example images differ in size across ranks; set an eval transform that crops to one "
          "size");
    }
    clean[k] = (*examples)[k].first.flatten();
    adversarial[k] = (*examples)[k].second.flatten();
  }
  ASSIGN_OR_RETURN(const torch::Tensor all_index,
                   world.AllGather(torch::tensor(*index, torch::kLong)));
  ASSIGN_OR_RETURN(const torch::Tensor all_clean, world.AllGather(clean));
  ASSIGN_OR_RETURN(const torch::Tensor all_adversarial, world.AllGather(adversarial));
  const torch::Tensor order = all_index.argsort();
  examples->clear();
  index->clear();
  for (int64_t k = 0; k < std::min<int64_t>(keep, order.size(0)); ++k) {
    const int64_t j = order[k].item<int64_t>();
    index->push_back(all_index[j].item<int64_t>());
    examples->emplace_back(all_clean[j].view(image_shape).clone(),
                           all_adversarial[j].view(image_shape).clone());
  }
  return absl::OkStatus();
}

// The report's summaries from its per-image records (in image order).
void Summarize(int num_patches, PatchAttackReport* report) {
  int64_t correct = 0, robust = 0, attacked = 0, successes = 0;
  double queries_success = 0, queries_all = 0, patches_success = 0, area_success = 0;
  std::vector<int64_t> robust_after(num_patches, 0);
  for (const PatchAttackImage& r : report->images) {
    correct += r.clean_prediction == r.label;
    if (!r.attacked) continue;
    ++attacked;
    report->patch_side = r.side;
    queries_all += r.queries;
    report->max_area = std::max(report->max_area, r.area);
    if (r.success) {
      ++successes;
      queries_success += r.queries;
      patches_success += r.patches;
      area_success += r.area;
    }
    // Acc_TPA: still correct. Per budget k: not yet successful (non-targeted: the same thing;
    // targeted: the target not reached after k patches).
    robust += r.final_prediction == r.label;
    for (int k = 0; k < num_patches; ++k) robust_after[k] += !r.success_after[k];
  }
  const double n = static_cast<double>(report->num_images);
  report->clean_accuracy = correct / n;
  report->tpa_accuracy = robust / n;
  report->success_rate = attacked > 0 ? static_cast<double>(successes) / attacked : 0;
  report->accuracy_after.assign(num_patches, 0.0);
  for (int k = 0; k < num_patches; ++k) report->accuracy_after[k] = robust_after[k] / n;
  report->mean_queries = successes > 0 ? queries_success / successes : 0;
  report->mean_queries_all = attacked > 0 ? queries_all / attacked : 0;
  report->mean_patches = successes > 0 ? patches_success / successes : 0;
  report->mean_area = successes > 0 ? area_success / successes : 0;
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
  std::shared_ptr<World> world = options.world;
  if (world == nullptr) {
    ASSIGN_OR_RETURN(world, CurrentWorld());
  }
  const int num_patches = ac.num_patches();
  PatchAttackReport report;
  report.num_images = config.num_images();
  int64_t done = 0, correct = 0, robust = 0, attacked = 0;
  double queries_all = 0;
  const int64_t local_images =
      (config.num_images() - world->rank() + world->size() - 1) / world->size();
  ProgressLine progress(options.name, std::max<int64_t>(1, local_images), "img", 10.0,
                        world->progress_stream());
  // This rank's first example_images successes (the global first ones are among them).
  std::vector<int64_t> example_index;
  // Each class's textures are read (and SHA-checked) once, up to kTextureCacheBytes in all; at
  // paper scale (18 MB per class) about 50 classes stay loaded.
  std::map<int64_t, torch::Tensor> textures;
  for (int64_t i = world->rank(); i < config.num_images(); i += world->size()) {
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
      r.side = out.side;
      r.success_after = out.success_after;
      queries_all += out.queries;
      robust += r.final_prediction == r.label;
      if (out.success && static_cast<int>(report.examples.size()) < config.example_images()) {
        report.examples.emplace_back(image.cpu(), out.adversarial.cpu());
        example_index.push_back(i);
      }
    }
    report.images.push_back(r);
    ++done;
    progress.Update(done, done,
                    absl::StrFormat("clean %.1f%% | TPA %.1f%% | %.0f queries/img",
                                    100.0 * correct / done, 100.0 * robust / done,
                                    attacked > 0 ? queries_all / attacked : 0.0));
  }
  if (world->size() > 1) {
    RETURN_IF_ERROR(GatherRecords(*world, num_patches, &report.images));
    RETURN_IF_ERROR(GatherExamples(*world, config.example_images(), &example_index,
                                   &report.examples));
  }
  Summarize(num_patches, &report);
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace robustness
