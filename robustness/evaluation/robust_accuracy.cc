#include "robustness/evaluation/robust_accuracy.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <numeric>
#include <set>
#include <utility>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "robustness/attacks/attack.h"
#include "robustness/attacks/attack_factory.h"
#include "robustness/attacks/radius.h"
#include "robustness/base/progress.h"
#include "robustness/base/seed.h"
#include "robustness/base/status_macros.h"
#include "robustness/base/unit_workers.h"
#include "robustness/datasets/batch_loader.h"
#include "robustness/datasets/shared_batches.h"
#include "robustness/distributed/eval_shard.h"
#include "robustness/distributed/world.h"

namespace robustness {

absl::Status ValidateRobustnessEvalConfig(const proto::RobustnessEvalConfig& c,
                                          int64_t test_size) {
  for (int i = 0; i < c.radii_size(); ++i) {
    RETURN_IF_ERROR(ValidateRadius(c.radii(i), absl::StrCat("evaluation.radii[", i, "]")));
  }
  std::set<std::string> names;
  for (int i = 0; i < c.attacks_size(); ++i) {
    RETURN_IF_ERROR(ValidateAttackConfig(c.attacks(i)));
    if (!names.insert(c.attacks(i).name()).second) {
      return absl::InvalidArgumentError(absl::StrCat("evaluation.attacks[", i, "].name: \"",
                                                     c.attacks(i).name(), "\" is used twice"));
    }
  }
  if (c.num_images() < 0 || c.num_images() > test_size) {
    return absl::InvalidArgumentError(absl::StrCat("evaluation.num_images: must be in [0, ",
                                                   test_size, "] (the test set size), got ",
                                                   c.num_images()));
  }
  if (c.batch_size() < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("evaluation.batch_size: must be >= 1, got ", c.batch_size()));
  }
  return absl::OkStatus();
}

absl::StatusOr<RobustnessReport> EvaluateRobustness(ImageClassifierImpl& model,
                                                    std::shared_ptr<const Dataset> test,
                                                    const ImageTransform& eval_transform,
                                                    const proto::RobustnessEvalConfig& config,
                                                    const EvalOptions& options) {
  RETURN_IF_ERROR(ValidateRobustnessEvalConfig(config, test->size()));
  const int64_t n = config.num_images() == 0 ? test->size() : config.num_images();
  const int num_radii = config.radii_size();
  const int num_attacks = config.attacks_size();
  // attacks[r][a]: attack a at radius r.
  std::vector<std::vector<std::unique_ptr<Attack>>> attacks(num_radii);
  for (int r = 0; r < num_radii; ++r) {
    for (int a = 0; a < num_attacks; ++a) {
      ASSIGN_OR_RETURN(std::unique_ptr<Attack> attack,
                       CreateAttack(config.attacks(a), RadiusToPixels(config.radii(r))));
      attacks[r].push_back(std::move(attack));
    }
  }
  // Data parallelism (robustness/distributed): this rank's batches of the single-process order,
  // with their global batch indices (the attack seeds); the counts are summed over the ranks.
  std::shared_ptr<World> world = options.world;
  if (world == nullptr) {
    ASSIGN_OR_RETURN(world, CurrentWorld());
  }
  const EvalShard shard = ShardEvaluation(n, config.batch_size(), world->rank(), world->size());
  BatchLoader loader(test, shard.order, config.batch_size(), eval_transform, /*seed=*/0,
                     options.data_loader_threads, /*drop_last=*/false);
  model.eval();
  const auto start = std::chrono::steady_clock::now();
  // One unit per (batch, radius), each attack with its own seed: independent units on several
  // workers (robustness/base/unit_workers.h, as auto_attack_eval.h).
  const int64_t num_batches = loader.num_batches();
  const int64_t num_units = num_batches * std::max(1, num_radii);
  const WorkerLayout layout =
      ChooseWorkerLayout(at::get_num_threads(), num_units, options.device.is_cpu());
  // Per batch: the images still correct clean (attacks run only on those), and their count.
  std::vector<int64_t> batch_clean(num_batches, 0), batch_size(num_batches, 0);
  int64_t loaded = 0;
  SharedBatches batches(loader, std::max(1, num_radii), [&](Batch& batch) {
    const int64_t b = loaded++;
    batch.images = batch.images.to(options.device);
    batch.labels = batch.labels.to(options.device);
    torch::NoGradGuard no_grad;
    const torch::Tensor keep = model.forward(batch.images).argmax(1).eq(batch.labels).nonzero().squeeze(1);
    batch_clean[b] = keep.numel();
    batch_size[b] = batch.labels.size(0);
    batch.images = batch.images.index_select(0, keep);
    batch.labels = batch.labels.index_select(0, keep);
    return absl::OkStatus();
  });
  // unit_correct[unit][a]: images surviving attack a alone; unit_robust[unit]: surviving all.
  std::vector<std::vector<int64_t>> unit_correct(num_units, std::vector<int64_t>(num_attacks, 0));
  std::vector<int64_t> unit_robust(num_units, 0);
  std::mutex mu;  // guards the progress counters
  int64_t units_done = 0, seen = 0, clean_seen = 0;
  std::vector<bool> batch_counted(num_batches, false);
  std::vector<int64_t> robust_seen(num_radii, 0), radius_seen(num_radii, 0);
  ProgressLine progress(absl::StrCat("attack ", options.name), num_units, "img", 5.0,
                        world->progress_stream());
  RETURN_IF_ERROR(RunUnits(layout, num_units, [&](int64_t unit) -> absl::Status {
    const int64_t b = unit / std::max(1, num_radii);
    const int r = static_cast<int>(unit % std::max(1, num_radii));
    ASSIGN_OR_RETURN(const Batch batch, batches.Get(b));
    const torch::Tensor& x = batch.images;
    const torch::Tensor& y = batch.labels;
    if (num_radii > 0 && y.size(0) > 0) {
      torch::Tensor robust = torch::ones_like(y, torch::kBool);
      for (int a = 0; a < num_attacks; ++a) {
        const uint64_t global_b = static_cast<uint64_t>(shard.global_batch[b]);
        at::Generator gen = MakeGenerator(
            DeriveSeed(options.seed, {kAttackStream, global_b, uint64_t(r), uint64_t(a)}),
            x.device());
        torch::Tensor x_adv = attacks[r][a]->Perturb(model, x, y, gen);
        torch::NoGradGuard no_grad;
        torch::Tensor survived = model.forward(x_adv).argmax(1).eq(y);
        unit_correct[unit][a] = survived.sum().item<int64_t>();
        robust = robust.logical_and(survived);
      }
      unit_robust[unit] = robust.sum().item<int64_t>();
    }
    batches.Release(b);
    std::lock_guard<std::mutex> lock(mu);
    ++units_done;
    if (!batch_counted[b]) {  // the first of the batch's units to finish counts its images
      batch_counted[b] = true;
      seen += batch_size[b];
      clean_seen += batch_clean[b];
    }
    if (num_radii > 0) {
      robust_seen[r] += unit_robust[unit];
      radius_seen[r] += batch_size[b];
    }
    std::string metrics =
        absl::StrFormat("clean %.2f%%", 100.0 * clean_seen / std::max<int64_t>(1, seen));
    for (int k = 0; k < num_radii; ++k) {
      absl::StrAppendFormat(&metrics, " | eps %s %.2f%%", RadiusLabel(config.radii(k)),
                            100.0 * robust_seen[k] / std::max<int64_t>(1, radius_seen[k]));
    }
    progress.Update(units_done, seen, metrics);
    return absl::OkStatus();
  }));
  int64_t clean_correct = 0;
  for (int64_t b = 0; b < num_batches; ++b) clean_correct += batch_clean[b];
  std::vector<int64_t> robust_correct(num_radii, 0);
  std::vector<std::vector<int64_t>> attack_correct(num_radii, std::vector<int64_t>(num_attacks, 0));
  for (int64_t unit = 0; num_radii > 0 && unit < num_units; ++unit) {
    const int r = static_cast<int>(unit % num_radii);
    robust_correct[r] += unit_robust[unit];
    for (int a = 0; a < num_attacks; ++a) attack_correct[r][a] += unit_correct[unit][a];
  }
  if (world->size() > 1) {
    std::vector<int64_t> counts = {clean_correct};
    counts.insert(counts.end(), robust_correct.begin(), robust_correct.end());
    for (const std::vector<int64_t>& per_attack : attack_correct) {
      counts.insert(counts.end(), per_attack.begin(), per_attack.end());
    }
    torch::Tensor totals = torch::tensor(counts, torch::kLong);
    RETURN_IF_ERROR(world->AllReduceSum({totals}));
    size_t k = 0;
    clean_correct = totals[k++].item<int64_t>();
    for (int64_t& c : robust_correct) c = totals[k++].item<int64_t>();
    for (std::vector<int64_t>& per_attack : attack_correct) {
      for (int64_t& c : per_attack) c = totals[k++].item<int64_t>();
    }
  }
  RobustnessReport report;
  report.num_images = n;
  report.clean_accuracy = static_cast<double>(clean_correct) / n;
  for (int r = 0; r < num_radii; ++r) {
    RadiusResult result;
    result.epsilon = RadiusToPixels(config.radii(r));
    result.label = RadiusLabel(config.radii(r));
    result.robust_accuracy = static_cast<double>(robust_correct[r]) / n;
    for (int a = 0; a < num_attacks; ++a) {
      result.per_attack.push_back(
          {config.attacks(a).name(), static_cast<double>(attack_correct[r][a]) / n});
    }
    report.radii.push_back(std::move(result));
  }
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace robustness
