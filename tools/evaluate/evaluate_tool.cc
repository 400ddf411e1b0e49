#include "tools/evaluate/evaluate_tool.h"

#include <chrono>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <ATen/Parallel.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "robustness/attacks/radius.h"
#include "robustness/augmentation/transform_factory.h"
#include "robustness/base/atomic_file.h"
#include "robustness/base/seed.h"
#include "robustness/base/status_macros.h"
#include "robustness/config/composed_config.h"
#include "robustness/config/require_fields.h"
#include "robustness/datasets/dataset_factory.h"
#include "robustness/evaluation/auto_attack_eval.h"
#include "robustness/evaluation/corruption_eval.h"
#include "robustness/evaluation/robust_accuracy.h"
#include "robustness/harness/experiment.h"
#include "robustness/models/model_factory.h"
#include "robustness/weights/checkpoint_weights.h"
#include "robustness/weights/module_state_dict.h"
#include "robustness/weights/state_dict_io.h"

namespace robustness {
namespace {

// Loads the configured weights strictly into `model`; returns what was loaded.
absl::StatusOr<std::string> LoadWeights(const tools::WeightsSource& source,
                                        torch::nn::Module& model) {
  switch (source.source_case()) {
    case tools::WeightsSource::kCheckpoint: {
      ASSIGN_OR_RETURN(StateDict state, ReadCheckpointWeights(source.checkpoint()));
      RETURN_IF_ERROR(LoadStateDict(state, model, source.checkpoint()));
      return absl::StrCat("training checkpoint ", source.checkpoint());
    }
    case tools::WeightsSource::kTorchSave: {
      if (!source.torch_save().has_path() || !source.torch_save().has_key()) {
        return absl::InvalidArgumentError(
            "weights.torch_save: set both path and key (key \"\" unwraps model / state_dict / "
            "... automatically)");
      }
      ASSIGN_OR_RETURN(StateDictFile file, LoadWeightsFile(source.torch_save().path(), model,
                                                           source.torch_save().key()));
      return absl::StrCat(source.torch_save().path(), ": ", file.Describe());
    }
    case tools::WeightsSource::SOURCE_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError(
      "weights: set checkpoint: \"<training checkpoint>\" or torch_save { path key }");
}

void FillAutoAttackResult(const proto::AutoAttackEvalConfig& config,
                          const AutoAttackEvalReport& report, tools::EvaluateResult* result) {
  const double n = static_cast<double>(report.num_images);
  result->set_num_images(report.num_images);
  result->set_clean_accuracy(100.0 * report.clean_correct / n);
  result->set_seconds(report.seconds);
  result->set_images_per_second(report.seconds > 0 ? n / report.seconds : 0.0);
  AddAutoAttackResults(config, report, result->mutable_auto_attack());
}

// index,label,clean_prediction, then per radius: the first stage that fooled the image ("clean
// error" / "robust" otherwise) and its final prediction.
std::string PerImageCsv(const AutoAttackEvalReport& report,
                        const proto::AutoAttackEvalConfig& config) {
  std::string csv = "index,label,clean_prediction";
  for (const AutoAttackRadiusResult& r : report.radii) {
    absl::StrAppend(&csv, ",fooled_by eps=", r.label, ",prediction eps=", r.label);
  }
  csv += "\n";
  const auto labels = report.labels.accessor<int64_t, 1>();
  const auto clean = report.clean_prediction.accessor<int64_t, 1>();
  std::vector<at::TensorAccessor<int64_t, 1>> fooled_by, prediction;
  for (const AutoAttackRadiusResult& r : report.radii) {
    fooled_by.push_back(r.fooled_by.accessor<int64_t, 1>());
    prediction.push_back(r.final_prediction.accessor<int64_t, 1>());
  }
  for (int64_t i = 0; i < report.num_images; ++i) {
    absl::StrAppend(&csv, i, ",", labels[i], ",", clean[i]);
    for (size_t r = 0; r < report.radii.size(); ++r) {
      const int64_t k = fooled_by[r][i];
      const std::string outcome =
          k == -1 ? "clean error" : k == -2 ? "robust" : report.radii[r].stages[k].name;
      absl::StrAppend(&csv, ",", outcome, ",", prediction[r][i]);
    }
    csv += "\n";
  }
  return csv;
}

}  // namespace

absl::StatusOr<tools::EvaluateResult> RunEvaluateTool(const EvaluateToolOptions& options) {
  tools::EvaluateConfig config;
  ConfigOrigins origins;
  RETURN_IF_ERROR(ReadComposedConfigWithFragment(options.config_path, options.set_fragment,
                                                 &config, &origins));
  const std::string& source = options.config_path;
  RETURN_IF_ERROR(RequireAllFieldsSet(config, source));
  RETURN_IF_ERROR(ValidateRuntimeBlock(config.runtime(), "runtime", source, origins));
  RETURN_IF_ERROR(ValidateDataBlock(config.data(), "data", source, origins));
  if (config.has_evaluation()) {
    RETURN_IF_ERROR(
        ValidateRobustnessBlock(config.evaluation(), "evaluation", config.data(), source, origins));
  } else if (config.has_auto_attack()) {
    const int64_t known = config.data().subset_size() > 0 ? config.data().subset_size() : -1;
    const absl::Status valid = ValidateAutoAttackEvalConfig(config.auto_attack(), known);
    if (!valid.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": ", valid.message()));
    }
  } else if (config.has_corruption_eval()) {
    const int64_t known = config.data().subset_size() > 0 ? config.data().subset_size()
                                                          : std::numeric_limits<int64_t>::max();
    RETURN_IF_ERROR(origins.Annotate(ValidateCorruptionEvalConfig(config.corruption_eval(), known),
                                     "corruption_eval."));
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": set evaluation { ... }, auto_attack { ... } or corruption_eval { ... }"));
  }
  RETURN_IF_ERROR(ValidateEvalTransform(config.eval_transform()));
  if (options.output_dir.empty()) {
    return absl::InvalidArgumentError("--output_dir is required");
  }
  ASSIGN_OR_RETURN(torch::Device device, ParseDevice(config.runtime().device(), true));
  ConfigureRuntime(config.runtime().seed(), config.runtime().num_threads());

  ASSIGN_OR_RETURN(ImageClassifier model, CreateModel(config.model()));
  ASSIGN_OR_RETURN(std::string weights, LoadWeights(config.weights(), *model));
  model->to(device);
  model->eval();
  ASSIGN_OR_RETURN(std::shared_ptr<const Dataset> data, CreateDataset(config.data()));
  if (data->num_classes() != config.model().num_classes()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model.num_classes: ", config.model().num_classes(), " but the data has ",
        data->num_classes(), " classes"));
  }
  ASSIGN_OR_RETURN(ImageTransform eval_transform, CreateEvalTransform(config.eval_transform()));
  EvalOptions eval{config.name(), config.runtime().seed(), config.runtime().data_loader_threads(),
                   device};
  std::error_code ec;
  std::filesystem::create_directories(options.output_dir, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot create --output_dir ", options.output_dir, ": ", ec.message()));
  }
  tools::EvaluateResult result;
  result.set_name(config.name());
  result.set_weights(weights);
  result.set_num_parameters(CountParameters(*model));
  result.set_seed(config.runtime().seed());
  if (config.has_corruption_eval()) {
    CorruptionEvalOptions corruption_options;
    corruption_options.name = config.name();
    corruption_options.threads = std::max(1, at::get_num_threads());
    corruption_options.device = device;
    ASSIGN_OR_RETURN(CorruptionReport report,
                     EvaluateCorruptions(*model, data, eval_transform, config.corruption_eval(),
                                         corruption_options));
    result.set_num_images(report.num_images);
    result.set_clean_accuracy(100.0 * (1.0 - report.clean_error));
    result.set_seconds(report.seconds);
    result.set_images_per_second(
        report.seconds > 0 ? report.num_images * (1.0 + config.corruption_eval().corruptions_size() *
                                                            config.corruption_eval().severities_size()) /
                                 report.seconds
                           : 0.0);
    result.set_mce(report.mce_common);
    result.set_mce_all(report.mce_all);
    result.set_normalized_mce(report.normalized_mce);
    result.set_relative_mce(report.relative_mce);
    for (const CorruptionErrors& c : report.corruptions) {
      tools::CorruptionScore* score = result.add_corruptions();
      score->set_corruption(c.corruption);
      for (int s : c.severities) score->add_severities(s);
      for (double e : c.errors) score->add_error(100.0 * e);
      score->set_ce(100.0 * c.mean_error);
    }
    ASSIGN_OR_RETURN(std::string json, ToResultJson(result));
    RETURN_IF_ERROR(WriteFileAtomically(options.output_dir + "/results.json", json));
    RETURN_IF_ERROR(WriteFileAtomically(
        options.output_dir + "/results.md",
        RenderEvaluateMarkdown(result)));
    RETURN_IF_ERROR(WriteFileAtomically(options.output_dir + "/imagenet_c_heatmap.svg",
                                        RenderCorruptionHeatMap(config.name(), report)));
    return result;
  }
  if (config.has_auto_attack()) {
    ASSIGN_OR_RETURN(AutoAttackEvalReport report,
                     EvaluateAutoAttack(*model, data, eval_transform, config.auto_attack(), eval,
                                        options.save_adversarial));
    FillAutoAttackResult(config.auto_attack(), report, &result);
    RETURN_IF_ERROR(WriteFileAtomically(options.output_dir + "/per_image.csv",
                                        PerImageCsv(report, config.auto_attack())));
    if (options.save_adversarial) {
      StateDict tensors;
      tensors.insert("labels", report.labels);
      tensors.insert("clean_prediction", report.clean_prediction);
      for (const AutoAttackRadiusResult& r : report.radii) {
        tensors.insert("x_adv eps=" + r.label, r.x_adv);
        tensors.insert("fooled_by eps=" + r.label, r.fooled_by);
      }
      RETURN_IF_ERROR(WriteStateDictFile(options.output_dir + "/adversarial.pth", tensors));
    }
    ASSIGN_OR_RETURN(std::string json, ToResultJson(result));
    RETURN_IF_ERROR(WriteFileAtomically(options.output_dir + "/results.json", json));
    RETURN_IF_ERROR(
        WriteFileAtomically(options.output_dir + "/results.md", RenderEvaluateMarkdown(result)));
    return result;
  }
  ASSIGN_OR_RETURN(RobustnessReport report,
                   EvaluateRobustness(*model, data, eval_transform, config.evaluation(), eval));
  result.set_num_images(report.num_images);
  result.set_clean_accuracy(100.0 * report.clean_accuracy);
  for (const RadiusResult& r : report.radii) {
    harness::RadiusAccuracy* out = result.add_robust();
    out->set_epsilon(r.epsilon);
    out->set_label(r.label);
    out->set_robust_accuracy(100.0 * r.robust_accuracy);
    for (const AttackAccuracy& a : r.per_attack) {
      harness::AttackAccuracy* pa = out->add_per_attack();
      pa->set_attack(a.attack);
      pa->set_accuracy(100.0 * a.accuracy);
    }
  }
  result.set_seconds(report.seconds);
  result.set_images_per_second(report.seconds > 0 ? report.num_images / report.seconds : 0.0);
  ASSIGN_OR_RETURN(std::string json, ToResultJson(result));
  RETURN_IF_ERROR(WriteFileAtomically(options.output_dir + "/results.json", json));
  RETURN_IF_ERROR(
      WriteFileAtomically(options.output_dir + "/results.md", RenderEvaluateMarkdown(result)));
  return result;
}

std::string RenderEvaluateMarkdown(const tools::EvaluateResult& result) {
  std::string md = absl::StrCat("# ", result.name(), ": robustness evaluation\n\n");
  if (result.corruptions_size() > 0) {
    absl::StrAppendFormat(&md,
                          "Weights: %s (%.3fM parameters). %d images, each clean and under every "
                          "corruption x severity; %.1f s (%.2f images/s, corrupted ones "
                          "included).\n\n",
                          result.weights(), result.num_parameters() / 1e6, result.num_images(),
                          result.seconds(), result.images_per_second());
  } else {
    absl::StrAppendFormat(&md,
                          "Weights: %s (%.3fM parameters). %d images, attack seed %d, %.1f s "
                          "(%.2f images/s). Accuracies in %%; robust accuracy is the per-image "
                          "worst case over the attacks.\n\n",
                          result.weights(), result.num_parameters() / 1e6, result.num_images(),
                          result.seed(), result.seconds(), result.images_per_second());
  }
  if (result.corruptions_size() > 0) {
    absl::StrAppendFormat(&md, "Clean accuracy %.2f%%. Top-1 error (%%) per severity, CE = mean.\n\n"
                               "| corruption |", result.clean_accuracy());
    for (int s : result.corruptions(0).severities()) absl::StrAppend(&md, " s", s, " |");
    md += " CE |\n| --- |";
    for (int i = 0; i <= result.corruptions(0).severities_size(); ++i) md += " ---: |";
    md += "\n";
    for (const tools::CorruptionScore& c : result.corruptions()) {
      absl::StrAppend(&md, "| ", c.corruption(), " |");
      for (double e : c.error()) absl::StrAppendFormat(&md, " %.1f |", e);
      absl::StrAppendFormat(&md, " %.2f |\n", c.ce());
    }
    absl::StrAppendFormat(&md, "\nmCE (unnormalised, the 15 common): %.2f%%; over all evaluated: %.2f%%.\n",
                          result.mce(), result.mce_all());
    if (result.normalized_mce() >= 0) {
      absl::StrAppendFormat(&md, "AlexNet-normalised mCE %.1f, relative mCE %.1f.\n",
                            result.normalized_mce(), result.relative_mce());
    }
    return md;
  }
  if (result.auto_attack_size() > 0) {
    absl::StrAppend(&md, "AutoAttack: each stage runs on the images still robust after the "
                         "previous ones; robust accuracy after each stage.\n\n| Radius | clean |");
    for (const harness::AutoAttackStage& s : result.auto_attack(0).stages()) {
      absl::StrAppend(&md, " after ", s.name(), " |");
    }
    absl::StrAppend(&md, " max perturbation |\n| --- | ---: |");
    for (int i = 0; i <= result.auto_attack(0).stages_size(); ++i) md += " ---: |";
    md += "\n";
    for (const harness::AutoAttackRadius& r : result.auto_attack()) {
      absl::StrAppendFormat(&md, "| %s | %.2f |", r.label(), result.clean_accuracy());
      for (const harness::AutoAttackStage& s : r.stages()) {
        absl::StrAppendFormat(&md, " %.2f |", s.robust_accuracy());
      }
      absl::StrAppendFormat(&md, " %.5f |\n", r.max_perturbation());
    }
    md += "\nStage times (s, summed over the batch x radius units, which run side by side on "
          "CPU, so the sum can exceed the wall time) and images attacked / fooled:\n\n";
    for (const harness::AutoAttackRadius& r : result.auto_attack()) {
      absl::StrAppend(&md, "- ", r.label(), ":");
      for (const harness::AutoAttackStage& s : r.stages()) {
        absl::StrAppendFormat(&md, " %s %.1f s (%d / %d);", s.name(), s.seconds(), s.attacked(),
                              s.fooled());
      }
      md += "\n";
      for (const std::string& w : r.warnings()) absl::StrAppend(&md, "  - warning: ", w, "\n");
    }
    return md;
  }
  absl::StrAppendFormat(&md, "| Radius | Robust | Each attack alone |\n| --- | ---: | --- |\n");
  absl::StrAppendFormat(&md, "| clean | %.2f | |\n", result.clean_accuracy());
  for (const harness::RadiusAccuracy& r : result.robust()) {
    std::vector<std::string> each;
    for (const harness::AttackAccuracy& a : r.per_attack()) {
      each.push_back(absl::StrFormat("%s %.2f", a.attack(), a.accuracy()));
    }
    absl::StrAppendFormat(&md, "| %s | %.2f | %s |\n", r.label(), r.robust_accuracy(),
                          absl::StrJoin(each, ", "));
  }
  return md;
}

}  // namespace robustness
