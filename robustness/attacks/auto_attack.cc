#include "robustness/attacks/auto_attack.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>
#include <torch/utils.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "glog/logging.h"
#include "robustness/attacks/internal/eval_mode_guard.h"
#include "robustness/attacks/internal/input_contract.h"
#include "robustness/base/progress.h"
#include "robustness/base/seed.h"

namespace robustness {
namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

// check_range_output and check_randomized on the first batch.
std::vector<std::string> ModelOutputWarnings(ImageClassifierImpl& model, const torch::Tensor& x,
                                             const torch::Tensor& y) {
  attacks_internal::EvalModeGuard eval_mode(model);
  torch::NoGradGuard no_grad;
  std::vector<std::string> warnings;
  const torch::Tensor out = model.forward(x);
  const torch::Tensor row_sums = out.sum(1);
  if (out.max().item<double>() < 1 + 1e-5 && out.min().item<double>() > -1e-5 &&
      (row_sums - 1).abs().max().item<double>() < 1e-5) {
    warnings.push_back(
        "the model's outputs look like probabilities (in [0, 1], rows summing to 1): the "
        "attacks need logits, pass the model without its softmax");
  }
  const int64_t correct = out.argmax(1).eq(y).sum().item<int64_t>();
  const torch::Tensor normalised = out / (out.norm(2, 1, true) + 1e-10);
  for (int i = 0; i < 4; ++i) {
    const torch::Tensor again = model.forward(x);
    const torch::Tensor again_normalised = again / (again.norm(2, 1, true) + 1e-10);
    if (again.argmax(1).eq(y).sum().item<int64_t>() != correct ||
        (again_normalised - normalised).norm(2, 1).max().item<double>() > 1e-4) {
      warnings.push_back(
          "the model's outputs change between identical forward passes: it looks randomised "
          "(the reference suggests its 'rand' version, with EOT)");
      return warnings;
    }
  }
  return warnings;
}

std::string SquareWarning(const std::vector<AutoAttackStageResult>& stages) {
  // check_square_sr: Square below every other entry (clean included) by more than 0.002. The
  // entries are cumulative, so that is Square lowering the previous stage's accuracy.
  for (size_t k = 1; k < stages.size(); ++k) {
    if (stages[k].name == "Square" &&
        stages[k].robust_accuracy < stages[k - 1].robust_accuracy - 0.002) {
      return absl::StrFormat(
          "Square (a black-box attack) lowered robust accuracy from %.2f%% to %.2f%% after the "
          "white-box attacks: the model may mask its gradients",
          100.0 * stages[k - 1].robust_accuracy, 100.0 * stages[k].robust_accuracy);
    }
  }
  return "";
}

AutoAttackReport RunAutoAttack(ImageClassifierImpl& model, const torch::Tensor& images,
                               const torch::Tensor& labels,
                               const std::vector<const Attack*>& stages, LpNorm norm,
                               uint64_t seed, int64_t batch_size,
                               const std::string& progress_name, bool run_checks) {
  CHECK_GE(batch_size, 1);
  attacks_internal::CheckAttackInputs(images, labels);
  attacks_internal::EvalModeGuard eval_mode(model);
  torch::NoGradGuard no_grad;
  const int64_t n = images.size(0);
  AutoAttackReport report;
  report.num_images = n;
  report.x_adv = images.detach().clone();
  report.clean_prediction = torch::empty({n}, labels.options());
  report.fooled_by = torch::full({n}, -2, labels.options());
  if (n == 0) {
    report.final_prediction = report.clean_prediction;
    return report;
  }
  if (run_checks) {
    report.warnings = ModelOutputWarnings(model, images.narrow(0, 0, std::min(n, batch_size)),
                                          labels.narrow(0, 0, std::min(n, batch_size)));
  }
  for (int64_t begin = 0; begin < n; begin += batch_size) {
    const int64_t size = std::min(batch_size, n - begin);
    const torch::Tensor logits = model.forward(images.narrow(0, begin, size));
    TORCH_CHECK(!logits.isnan().any().item<bool>(), "AutoAttack: the model returned NaN logits on ",
                "images [", begin, ", ", begin + size, ") of the batch");
    report.clean_prediction.narrow(0, begin, size).copy_(logits.argmax(1));
  }
  torch::Tensor robust = report.clean_prediction.eq(labels);
  report.fooled_by.masked_fill_(robust.logical_not(), -1);
  report.final_prediction = report.clean_prediction.clone();
  report.clean_accuracy = robust.to(torch::kDouble).mean().item<double>();
  for (size_t k = 0; k < stages.size(); ++k) {
    if (!robust.any().item<bool>()) break;  // as the reference: no robust image left, no stage
    const auto start = std::chrono::steady_clock::now();
    AutoAttackStageResult stage;
    stage.name = stages[k]->name();
    const torch::Tensor todo = robust.nonzero().view(-1);
    stage.attacked = todo.numel();
    const int64_t batches = (stage.attacked + batch_size - 1) / batch_size;
    std::unique_ptr<ProgressLine> progress;
    if (!progress_name.empty() && batches > 0) {
      progress = std::make_unique<ProgressLine>(absl::StrCat(progress_name, " ", stage.name),
                                                batches, "img");
    }
    for (int64_t b = 0; b < batches; ++b) {
      const torch::Tensor index =
          todo.narrow(0, b * batch_size, std::min(batch_size, stage.attacked - b * batch_size));
      const torch::Tensor x = images.index_select(0, index);
      const torch::Tensor y = labels.index_select(0, index);
      torch::Generator gen = MakeGenerator(seed, images.device());  // re-seeded for every batch
      const torch::Tensor adv = stages[k]->PerturbWithWarnings(model, x, y, gen, &report.warnings);
      // The only success test: a fresh forward pass.
      const torch::Tensor prediction = model.forward(adv).argmax(1);
      const torch::Tensor rows = prediction.ne(y).nonzero().view(-1);
      const torch::Tensor fooled = index.index_select(0, rows);
      report.x_adv.index_copy_(0, fooled, adv.index_select(0, rows));
      report.final_prediction.index_copy_(0, fooled, prediction.index_select(0, rows));
      report.fooled_by.index_fill_(0, fooled, static_cast<int64_t>(k));
      robust.index_fill_(0, fooled, false);
      stage.fooled += fooled.numel();
      if (progress) {
        progress->Update(b + 1, (b + 1) * batch_size,
                         absl::StrFormat("robust %.2f%%",
                                         100.0 * robust.to(torch::kDouble).mean().item<double>()));
      }
    }
    stage.robust_accuracy = robust.to(torch::kDouble).mean().item<double>();
    stage.seconds = Seconds(start);
    report.stages.push_back(stage);
  }
  const torch::Tensor delta = (report.x_adv - images).flatten(1);
  report.max_perturbation = norm == LpNorm::kLinf ? delta.abs().max().item<double>()
                                                  : delta.norm(2, 1).max().item<double>();
  if (run_checks) {
    const std::string square = SquareWarning(report.stages);
    if (!square.empty()) report.warnings.push_back(square);
    for (const std::string& w : report.warnings) LOG(WARNING) << "AutoAttack: " << w;
  }
  return report;
}

}  // namespace robustness
