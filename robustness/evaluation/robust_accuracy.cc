#include "robustness/evaluation/robust_accuracy.h"

#include <chrono>
#include <numeric>
#include <set>
#include <utility>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "robustness/attacks/attack.h"
#include "robustness/attacks/attack_factory.h"
#include "robustness/attacks/radius.h"
#include "robustness/base/progress.h"
#include "robustness/base/seed.h"
#include "robustness/base/status_macros.h"
#include "robustness/datasets/batch_loader.h"

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
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  BatchLoader loader(test, order, config.batch_size(), eval_transform, /*seed=*/0,
                     options.data_loader_threads, /*drop_last=*/false);
  model.eval();
  const auto start = std::chrono::steady_clock::now();
  int64_t clean_correct = 0;
  std::vector<int64_t> robust_correct(num_radii, 0);
  std::vector<std::vector<int64_t>> attack_correct(num_radii, std::vector<int64_t>(num_attacks, 0));
  ProgressLine progress(absl::StrCat("attack ", options.name), loader.num_batches(), "img");
  int64_t seen = 0;
  for (int64_t b = 0; b < loader.num_batches(); ++b) {
    ASSIGN_OR_RETURN(Batch batch, loader.Next());
    torch::Tensor images = batch.images.to(options.device);
    torch::Tensor labels = batch.labels.to(options.device);
    torch::Tensor correct;
    {
      torch::NoGradGuard no_grad;
      correct = model.forward(images).argmax(1).eq(labels);
    }
    clean_correct += correct.sum().item<int64_t>();
    seen += labels.size(0);
    const torch::Tensor keep = correct.nonzero().squeeze(1);
    if (keep.numel() > 0) {
      const torch::Tensor x = images.index_select(0, keep);
      const torch::Tensor y = labels.index_select(0, keep);
      for (int r = 0; r < num_radii; ++r) {
        torch::Tensor robust = torch::ones_like(y, torch::kBool);
        for (int a = 0; a < num_attacks; ++a) {
          at::Generator gen = MakeCpuGenerator(
              DeriveSeed(options.seed, {kAttackStream, uint64_t(b), uint64_t(r), uint64_t(a)}));
          torch::Tensor x_adv = attacks[r][a]->Perturb(model, x, y, gen);
          torch::NoGradGuard no_grad;
          torch::Tensor survived = model.forward(x_adv).argmax(1).eq(y);
          attack_correct[r][a] += survived.sum().item<int64_t>();
          robust = robust.logical_and(survived);
        }
        robust_correct[r] += robust.sum().item<int64_t>();
      }
    }
    std::string metrics = absl::StrFormat("clean %.2f%%", 100.0 * clean_correct / seen);
    for (int r = 0; r < num_radii; ++r) {
      absl::StrAppendFormat(&metrics, " | eps %s %.2f%%", RadiusLabel(config.radii(r)),
                            100.0 * robust_correct[r] / seen);
    }
    progress.Update(b + 1, seen, metrics);
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
