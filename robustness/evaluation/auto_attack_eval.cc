#include "robustness/evaluation/auto_attack_eval.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include <ATen/Parallel.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "glog/logging.h"
#include "robustness/attacks/attack.h"
#include "robustness/attacks/attack_factory.h"
#include "robustness/attacks/auto_attack.h"
#include "robustness/attacks/auto_attack_version.h"
#include "robustness/attacks/radius.h"
#include "robustness/base/progress.h"
#include "robustness/base/seed.h"
#include "robustness/base/status_macros.h"
#include "robustness/base/torch_status.h"
#include "robustness/base/unit_workers.h"
#include "robustness/datasets/batch_loader.h"
#include "robustness/datasets/shared_batches.h"
#include "robustness/distributed/eval_shard.h"
#include "robustness/distributed/world.h"

namespace robustness {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("auto_attack.", field, ": ", what));
}

// The norm an attack config uses (NORM_UNSPECIFIED for an unset oneof).
proto::Norm StageNorm(const proto::AttackConfig& a) {
  switch (a.attack_case()) {
    case proto::AttackConfig::kFgsm:
      return a.fgsm().norm();
    case proto::AttackConfig::kPgd:
      return a.pgd().norm();
    case proto::AttackConfig::kApgd:
      return a.apgd().norm();
    case proto::AttackConfig::kSquare:
      return a.square().norm();
    case proto::AttackConfig::kFab:
      return a.fab().norm();
    case proto::AttackConfig::ATTACK_NOT_SET:
      break;
  }
  return proto::NORM_UNSPECIFIED;
}

}  // namespace

absl::Status ValidateAutoAttackEvalConfig(const proto::AutoAttackEvalConfig& c,
                                          int64_t data_size) {
  if (c.norm() != proto::LINF && c.norm() != proto::L2) {
    return Invalid("norm", absl::StrCat("must be LINF or L2, got ", proto::Norm_Name(c.norm())));
  }
  if (c.radii_size() == 0) return Invalid("radii", "must list at least one radius");
  for (int i = 0; i < c.radii_size(); ++i) {
    RETURN_IF_ERROR(ValidateRadius(c.radii(i), absl::StrCat("auto_attack.radii[", i, "]")));
  }
  switch (c.version_case()) {
    case proto::AutoAttackEvalConfig::kStandard:
    case proto::AutoAttackEvalConfig::kPlus:
      break;
    case proto::AutoAttackEvalConfig::kCustom:
      if (c.custom().stages_size() == 0) {
        return Invalid("custom.stages", "must list at least one stage");
      }
      break;
    case proto::AutoAttackEvalConfig::VERSION_NOT_SET:
      return Invalid("version", "must be set: standard {}, plus {} or custom { stages ... }");
  }
  std::set<std::string> names;
  for (int i = 0; i < c.custom().stages_size(); ++i) {
    const proto::AttackConfig& stage = c.custom().stages(i);
    const std::string field = absl::StrCat("custom.stages[", i, "]");
    const absl::Status valid = ValidateAttackConfig(stage);
    if (!valid.ok()) {
      std::string message(valid.message());
      if (message.rfind("attack.", 0) == 0) message = message.substr(7);
      return absl::InvalidArgumentError(absl::StrCat("auto_attack.", field, ".", message));
    }
    if (StageNorm(stage) != c.norm()) {
      return Invalid(field, absl::StrCat("its norm ", proto::Norm_Name(StageNorm(stage)),
                                         " differs from auto_attack.norm ",
                                         proto::Norm_Name(c.norm())));
    }
    if (!names.insert(stage.name()).second) {
      return Invalid(absl::StrCat(field, ".name"),
                     absl::StrCat("\"", stage.name(), "\" is used twice"));
    }
  }
  if (c.num_images() < 0 || (data_size >= 0 && c.num_images() > data_size)) {
    return Invalid("num_images", absl::StrCat("must be in [0, ", data_size,
                                              "] (the data size), got ", c.num_images()));
  }
  if (c.batch_size() < 1) return Invalid("batch_size", absl::StrCat("must be >= 1, got ", c.batch_size()));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<proto::AttackConfig>> AutoAttackEvalStages(
    const proto::AutoAttackEvalConfig& config) {
  switch (config.version_case()) {
    case proto::AutoAttackEvalConfig::kStandard:
      return AutoAttackVersionStages(AutoAttackVersion::kStandard, config.norm());
    case proto::AutoAttackEvalConfig::kPlus:
      return AutoAttackVersionStages(AutoAttackVersion::kPlus, config.norm());
    default:
      return std::vector<proto::AttackConfig>(config.custom().stages().begin(),
                                              config.custom().stages().end());
  }
}

std::string AutoAttackVersionName(const proto::AutoAttackEvalConfig& config) {
  switch (config.version_case()) {
    case proto::AutoAttackEvalConfig::kStandard:
      return "STANDARD";
    case proto::AutoAttackEvalConfig::kPlus:
      return "PLUS";
    case proto::AutoAttackEvalConfig::kCustom:
      return "CUSTOM";
    case proto::AutoAttackEvalConfig::VERSION_NOT_SET:
      break;
  }
  return "UNSET";
}

absl::StatusOr<AutoAttackEvalReport> EvaluateAutoAttack(ImageClassifierImpl& model,
                                                        std::shared_ptr<const Dataset> data,
                                                        const ImageTransform& eval_transform,
                                                        const proto::AutoAttackEvalConfig& config,
                                                        const EvalOptions& options,
                                                        bool keep_adversarial) {
  RETURN_IF_ERROR(ValidateAutoAttackEvalConfig(config, data->size()));
  const int64_t n = config.num_images() == 0 ? data->size() : config.num_images();
  if (n == 0) return absl::InvalidArgumentError("auto_attack: the data has no images");
  const LpNorm norm = config.norm() == proto::LINF ? LpNorm::kLinf : LpNorm::kL2;
  const int num_radii = config.radii_size();
  std::vector<std::vector<std::unique_ptr<Attack>>> attacks(num_radii);
  ASSIGN_OR_RETURN(const std::vector<proto::AttackConfig> stage_configs,
                   AutoAttackEvalStages(config));
  AutoAttackEvalReport report;
  report.num_images = n;
  for (int r = 0; r < num_radii; ++r) {
    AutoAttackRadiusResult result;
    result.epsilon = RadiusToPixels(config.radii(r));
    result.label = RadiusLabel(config.radii(r));
    for (const proto::AttackConfig& stage : stage_configs) {
      ASSIGN_OR_RETURN(std::unique_ptr<Attack> attack, CreateAttack(stage, result.epsilon));
      attacks[r].push_back(std::move(attack));
      result.stages.push_back({stage.name()});
    }
    report.radii.push_back(std::move(result));
  }
  // Data parallelism (robustness/distributed): this rank's batches of the single-process order,
  // attacked with their global batch's seeds; per-image outcomes are gathered, counts summed.
  std::shared_ptr<World> world = options.world;
  if (world == nullptr) {
    ASSIGN_OR_RETURN(world, CurrentWorld());
  }
  const EvalShard shard = ShardEvaluation(n, config.batch_size(), world->rank(), world->size());
  BatchLoader loader(data, shard.order, config.batch_size(), eval_transform, /*seed=*/0,
                     options.data_loader_threads, /*drop_last=*/false);
  model.eval();
  const auto start = std::chrono::steady_clock::now();
  const int64_t num_batches = loader.num_batches();
  // One unit per (batch, radius), b-major: each has its own seed, so units are independent and
  // run on several workers (robustness/base/unit_workers.h). A unit's numbers depend on the
  // threads it ran with, not on how many workers ran beside it.
  const int64_t num_units = num_batches * num_radii;
  const WorkerLayout layout =
      ChooseWorkerLayout(at::get_num_threads(), num_units, options.device.is_cpu());
  std::vector<torch::Tensor> labels(num_batches);  // CPU copies, kept to the end
  int64_t loaded = 0;
  SharedBatches batches(loader, num_radii, [&](Batch& batch) {
    labels[loaded++] = batch.labels;
    batch.images = batch.images.to(options.device);
    batch.labels = batch.labels.to(options.device);
    return absl::OkStatus();
  });
  // The model checks once, on the first batch, as the reference runs them.
  std::vector<std::string> model_warnings;
  if (num_batches > 0) {  // rank 0 always has batch 0; a rank may have none (n < W batches)
    ASSIGN_OR_RETURN(const Batch first, batches.Get(0));
    model_warnings = ModelOutputWarnings(model, first.images, first.labels);
  }
  std::vector<AutoAttackReport> unit_reports(num_units);
  std::mutex mu;  // guards the progress counters
  std::vector<int64_t> robust_done(num_radii, 0), seen_done(num_radii, 0);
  int64_t units_done = 0, images_done = 0, clean_done = 0;
  std::vector<bool> batch_counted(num_batches, false);
  LOG(INFO) << "autoattack " << options.name << ": " << num_units << " units (batch x radius) on "
            << layout.workers << " worker(s) x " << layout.threads_per_worker << " thread(s)";
  ProgressLine progress(absl::StrCat("autoattack ", options.name), std::max<int64_t>(1, num_units),
                        "img", 5.0, world->progress_stream());
  RETURN_IF_ERROR(RunUnits(layout, num_units, [&](int64_t unit) -> absl::Status {
    const int64_t b = unit / num_radii;
    const int r = static_cast<int>(unit % num_radii);
    ASSIGN_OR_RETURN(const Batch batch, batches.Get(b));
    const uint64_t global_b = static_cast<uint64_t>(shard.global_batch[b]);
    const int64_t first = static_cast<int64_t>(global_b) * config.batch_size();
    const int64_t size = batch.labels.size(0);
    std::vector<const Attack*> stages;
    for (const auto& a : attacks[r]) stages.push_back(a.get());
    // The reference re-seeds every batch with one seed; ours derives one per batch and radius.
    AutoAttackReport& a = unit_reports[unit];
    RETURN_IF_ERROR(CallTorch(
        absl::StrCat("auto_attack on images [", first, ", ", first + size, ")"),
        [&] {
          a = RunAutoAttack(model, batch.images, batch.labels, stages, norm,
                            DeriveSeed(options.seed, {kAttackStream, global_b,
                                                      static_cast<uint64_t>(r)}),
                            config.batch_size(), /*progress_name=*/"", /*run_checks=*/false);
          return absl::OkStatus();
        },
        absl::StatusCode::kInvalidArgument));
    a.fooled_by = a.fooled_by.cpu();
    a.final_prediction = a.final_prediction.cpu();
    a.clean_prediction = a.clean_prediction.cpu();
    a.x_adv = keep_adversarial ? a.x_adv.cpu() : torch::Tensor();
    const int64_t robust = a.fooled_by.eq(-2).sum().item<int64_t>();
    batches.Release(b);
    std::lock_guard<std::mutex> lock(mu);
    robust_done[r] += robust;
    seen_done[r] += size;
    ++units_done;
    if (!batch_counted[b]) {  // the first of the batch's units to finish counts its images
      batch_counted[b] = true;
      images_done += size;
      clean_done += a.fooled_by.ne(-1).sum().item<int64_t>();
    }
    std::string metrics =
        absl::StrFormat("clean %.2f%%", 100.0 * clean_done / std::max<int64_t>(1, images_done));
    for (int k = 0; k < num_radii; ++k) {
      absl::StrAppendFormat(&metrics, " | eps %s %.2f%%", report.radii[k].label,
                            100.0 * robust_done[k] / std::max<int64_t>(1, seen_done[k]));
    }
    progress.Update(units_done, images_done, metrics);
    return absl::OkStatus();
  }));
  // Totals in unit order, whatever order the units finished in.
  std::vector<torch::Tensor> clean;
  std::vector<std::vector<torch::Tensor>> fooled_by(num_radii), final_prediction(num_radii),
      x_adv(num_radii);
  // The stages' own warnings per batch (APGD's zero gradients), at most kMaxStageWarnings per
  // radius, after the model checks.
  constexpr int kMaxStageWarnings = 20;
  std::vector<int> stage_warnings(num_radii, 0);
  for (int r = 0; r < num_radii; ++r) report.radii[r].warnings = model_warnings;
  for (int64_t unit = 0; unit < num_units; ++unit) {
    const int r = static_cast<int>(unit % num_radii);
    const AutoAttackReport& a = unit_reports[unit];
    if (r == 0) {
      clean.push_back(a.clean_prediction);
      report.clean_correct += a.fooled_by.ne(-1).sum().item<int64_t>();  // -1: clean error
    }
    AutoAttackRadiusResult& result = report.radii[r];
    int64_t robust = a.fooled_by.ne(-1).sum().item<int64_t>();
    for (size_t k = 0; k < result.stages.size(); ++k) {
      if (k < a.stages.size()) {
        result.stages[k].attacked += a.stages[k].attacked;
        result.stages[k].fooled += a.stages[k].fooled;
        result.stages[k].seconds += a.stages[k].seconds;
        robust -= a.stages[k].fooled;
      }
      result.stages[k].robust_after += robust;  // stages skipped (none left) change nothing
    }
    result.robust += robust;
    result.max_perturbation = std::max(result.max_perturbation, a.max_perturbation);
    const int64_t first = shard.global_batch[unit / num_radii] * config.batch_size();
    for (const std::string& w : a.warnings) {
      if (stage_warnings[r] < kMaxStageWarnings) {
        result.warnings.push_back(absl::StrCat(
            "images [", first, ", ", first + a.num_images, "): ", w));
      }
      ++stage_warnings[r];
    }
    fooled_by[r].push_back(a.fooled_by);
    final_prediction[r].push_back(a.final_prediction);
    if (keep_adversarial) x_adv[r].push_back(a.x_adv);
  }
  auto cat_or_empty = [](const std::vector<torch::Tensor>& parts, torch::Tensor empty) {
    return parts.empty() ? empty : torch::cat(parts);
  };
  const torch::Tensor no_images = torch::empty({0}, torch::kLong);
  report.labels = cat_or_empty(labels, no_images);
  report.clean_prediction = cat_or_empty(clean, no_images);
  std::vector<torch::Tensor> local_fooled(num_radii), local_final(num_radii), local_x(num_radii);
  for (int r = 0; r < num_radii; ++r) {
    local_fooled[r] = cat_or_empty(fooled_by[r], no_images);
    local_final[r] = cat_or_empty(final_prediction[r], no_images);
    if (keep_adversarial) {
      local_x[r] = x_adv[r].empty() ? torch::empty({0}) : torch::cat(x_adv[r]);
    }
  }
  if (world->size() > 1) {
    // Counts summed; per-image tensors gathered and put back in image order (the gathered
    // image indices sorted). Warnings stay each rank's own.
    std::vector<int64_t> counts = {report.clean_correct};
    std::vector<double> reals;
    for (const AutoAttackRadiusResult& result : report.radii) {
      counts.push_back(result.robust);
      for (const AutoAttackStageTotals& st : result.stages) {
        counts.insert(counts.end(), {st.attacked, st.fooled, st.robust_after});
        reals.push_back(st.seconds);
      }
    }
    torch::Tensor count_totals = torch::tensor(counts, torch::kLong);
    RETURN_IF_ERROR(world->AllReduceSum({count_totals}));
    size_t k = 0;
    report.clean_correct = count_totals[k++].item<int64_t>();
    for (AutoAttackRadiusResult& result : report.radii) {
      result.robust = count_totals[k++].item<int64_t>();
      for (AutoAttackStageTotals& st : result.stages) {
        st.attacked = count_totals[k++].item<int64_t>();
        st.fooled = count_totals[k++].item<int64_t>();
        st.robust_after = count_totals[k++].item<int64_t>();
      }
    }
    if (!reals.empty()) {
      torch::Tensor seconds = torch::tensor(reals, torch::kDouble);
      RETURN_IF_ERROR(world->AllReduceSum({seconds}));
      size_t j = 0;
      for (AutoAttackRadiusResult& result : report.radii) {
        for (AutoAttackStageTotals& st : result.stages) st.seconds = seconds[j++].item<double>();
      }
    }
    for (AutoAttackRadiusResult& result : report.radii) {
      ASSIGN_OR_RETURN(torch::Tensor maxima,
                       world->AllGather(torch::tensor({result.max_perturbation}, torch::kDouble)));
      result.max_perturbation = maxima.max().item<double>();
    }
    ASSIGN_OR_RETURN(const torch::Tensor index,
                     world->AllGather(torch::tensor(shard.order, torch::kLong)));
    const torch::Tensor in_order = index.argsort();
    auto gather = [&](const torch::Tensor& local) -> absl::StatusOr<torch::Tensor> {
      ASSIGN_OR_RETURN(torch::Tensor all, world->AllGather(local));
      return all.index_select(0, in_order);
    };
    ASSIGN_OR_RETURN(report.labels, gather(report.labels));
    ASSIGN_OR_RETURN(report.clean_prediction, gather(report.clean_prediction));
    for (int r = 0; r < num_radii; ++r) {
      ASSIGN_OR_RETURN(local_fooled[r], gather(local_fooled[r]));
      ASSIGN_OR_RETURN(local_final[r], gather(local_final[r]));
      if (keep_adversarial) {
        ASSIGN_OR_RETURN(local_x[r], gather(local_x[r]));
      }
    }
  }
  for (int r = 0; r < num_radii; ++r) {
    AutoAttackRadiusResult& result = report.radii[r];
    if (stage_warnings[r] > kMaxStageWarnings) {
      result.warnings.push_back(absl::StrCat("... and ", stage_warnings[r] - kMaxStageWarnings,
                                             " more batch warnings like these"));
    }
    // Square's check on the whole set's cumulative accuracies, as the reference's.
    std::vector<AutoAttackStageResult> totals;
    for (const AutoAttackStageTotals& s : result.stages) {
      totals.push_back({s.name, static_cast<double>(s.robust_after) / n});
    }
    const std::string square = SquareWarning(totals);
    if (!square.empty()) result.warnings.push_back(square);
    for (const std::string& w : result.warnings) LOG(WARNING) << "AutoAttack: " << w;
    report.radii[r].fooled_by = local_fooled[r];
    report.radii[r].final_prediction = local_final[r];
    if (keep_adversarial) report.radii[r].x_adv = local_x[r];
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace robustness
