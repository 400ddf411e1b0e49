#include "experiments/table1_vanilla_robustness/table1_vanilla_robustness.h"

#include <cctype>
#include <limits>
#include <set>
#include <utility>

#include <torch/cuda.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"
#include "robustness/augmentation/transform_factory.h"
#include "robustness/base/atomic_file.h"
#include "robustness/base/seed.h"
#include "robustness/base/sha256.h"
#include "robustness/base/status_macros.h"
#include "robustness/base/torch_status.h"
#include "robustness/config/provenance.h"
#include "robustness/config/require_fields.h"
#include "robustness/config/text_proto_file.h"
#include "robustness/datasets/dataset_factory.h"
#include "robustness/evaluation/robust_accuracy.h"
#include "robustness/evaluation/svg_line_plot.h"
#include "robustness/models/model_factory.h"
#include "robustness/training/trainer.h"

namespace robustness {
namespace {

using experiments::ModelResult;
using experiments::Table1Config;
using experiments::Table1Result;

absl::Status WithSource(const absl::Status& status, absl::string_view source) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(source, ": ", status.message()));
}

absl::Status PrefixField(const absl::Status& status, absl::string_view prefix) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(prefix, status.message()));
}

// Syntax is checked at validation (so a GPU config validates on a CPU-only machine); that the
// device exists is checked when the run starts.
absl::StatusOr<torch::Device> ParseDevice(const std::string& device, bool require_available) {
  if (device == "cpu") return torch::Device(torch::kCPU);
  if (device == "cuda" || absl::StartsWith(device, "cuda:")) {
    if (require_available && !torch::cuda::is_available()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "runtime.device: \"", device,
          "\" requested, but this LibTorch has no usable CUDA device (build with LIBTORCH_PATH "
          "pointing at a CUDA LibTorch: see third_party/README.md)"));
    }
    return torch::Device(device);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("runtime.device: must be \"cpu\", \"cuda\" or \"cuda:N\", got \"", device, "\""));
}

// "ResNet-18/16 (CNN recipe)" -> "resnet-18_16_cnn_recipe"
std::string FileStem(const std::string& label) {
  std::string out;
  for (char c : label) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-') {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!out.empty() && out.back() != '_') {
      out += '_';
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}


// OK when `image` is [in_channels, image_size, image_size] for `model`.
absl::Status CheckModelInput(const proto::ModelConfig& model, const torch::Tensor& image,
                             const std::string& config_path, int row, absl::string_view what) {
  if (image.dim() == 3 && image.size(0) == model.in_channels() &&
      image.size(1) == model.image_size() && image.size(2) == model.image_size()) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      config_path, ": models[", row, "].model expects [in_channels=", model.in_channels(),
      ", image_size=", model.image_size(), ", image_size=", model.image_size(), "] but the ",
      what, " are [", absl::StrJoin(image.sizes(), ", "), "]"));
}

}  // namespace

absl::Status ValidateTable1Config(const Table1Config& c, const std::string& source) {
  RETURN_IF_ERROR(RequireAllFieldsSet(c, source));
  const auto& rt = c.runtime();
  if (rt.num_threads() < 0 || rt.num_threads() > 1024) {
    return WithSource(absl::InvalidArgumentError(absl::StrCat(
                          "runtime.num_threads: must be in [0, 1024] (0 = every core), got ",
                          rt.num_threads())),
                      source);
  }
  if (rt.data_loader_threads() < 1 || rt.data_loader_threads() > 256) {
    return WithSource(absl::InvalidArgumentError(absl::StrCat(
                          "runtime.data_loader_threads: must be in [1, 256], got ",
                          rt.data_loader_threads())),
                      source);
  }
  RETURN_IF_ERROR(WithSource(ParseDevice(rt.device(), /*require_available=*/false).status(), source));
  RETURN_IF_ERROR(WithSource(PrefixField(ValidateDatasetConfig(c.train_data()), "train_data: "),
                             source));
  RETURN_IF_ERROR(WithSource(PrefixField(ValidateDatasetConfig(c.test_data()), "test_data: "),
                             source));
  RETURN_IF_ERROR(WithSource(ValidateEvalTransform(c.eval_transform()), source));
  std::set<std::string> labels;
  const int64_t unknown_size = std::numeric_limits<int64_t>::max();
  for (int i = 0; i < c.models_size(); ++i) {
    const auto& run = c.models(i);
    const std::string prefix = absl::StrCat("models[", i, "] (\"", run.label(), "\"): ");
    if (run.label().empty() || !labels.insert(run.label()).second) {
      return WithSource(absl::InvalidArgumentError(absl::StrCat(
                            "models[", i, "].label: must be non-empty and unique, got \"",
                            run.label(), "\"")),
                        source);
    }
    RETURN_IF_ERROR(WithSource(PrefixField(ValidateModelConfig(run.model()), prefix), source));
    const int64_t train_size =
        c.train_data().subset_size() > 0 ? c.train_data().subset_size() : unknown_size;
    RETURN_IF_ERROR(WithSource(
        PrefixField(ValidateTrainingConfig(run.training(), train_size, run.model().image_size()),
                    prefix),
        source));
  }
  const int64_t test_size =
      c.test_data().subset_size() > 0 ? c.test_data().subset_size() : unknown_size;
  return WithSource(ValidateRobustnessEvalConfig(c.evaluation(), test_size), source);
}

absl::StatusOr<Table1Result> RunTable1(const std::string& config_path,
                                       const std::string& output_dir,
                                       const Table1Options& options) {
  ASSIGN_OR_RETURN(Table1Config config, ReadTextProtoFile<Table1Config>(config_path));
  RETURN_IF_ERROR(ValidateTable1Config(config, config_path));
  absl::StatusOr<torch::Device> device_or =
      ParseDevice(config.runtime().device(), /*require_available=*/true);
  if (!device_or.ok()) return WithSource(device_or.status(), config_path);
  const torch::Device device = *device_or;
  const int64_t seed = config.runtime().seed();
  ConfigureRuntime(seed, config.runtime().num_threads());
  RunIdentity identity{"table1_vanilla_robustness", options.command_line, config_path, seed,
                       config.runtime().device()};
  ASSIGN_OR_RETURN(proto::Provenance provenance, WriteRunHeader(output_dir, identity, config));

  ASSIGN_OR_RETURN(std::shared_ptr<const Dataset> train, CreateDataset(config.train_data()));
  ASSIGN_OR_RETURN(std::shared_ptr<const Dataset> test, CreateDataset(config.test_data()));
  ASSIGN_OR_RETURN(ImageTransform eval_transform, CreateEvalTransform(config.eval_transform()));
  RETURN_IF_ERROR(EnsureWritableDirectory(output_dir + "/checkpoints"));

  Table1Result result;
  result.set_name(config.name());
  result.set_config_sha256(provenance.config_sha256());
  result.set_num_train_images(train->size());
  bool stop_hook_used = false;
  for (int row = 0; row < config.models_size(); ++row) {
    const experiments::ModelRun& run = config.models(row);
    // Each row's initialisation has its own seed, so rows can be added or reordered freely.
    at::manual_seed(DeriveSeed(seed, {kInitStream, uint64_t(row)}));
    ASSIGN_OR_RETURN(ImageClassifier model, CreateModel(run.model()));
    // The model's input contract must match what the transforms produce, or forward() would
    // fail deep inside LibTorch.
    ASSIGN_OR_RETURN(torch::Tensor test_probe, test->Image(0));
    if (eval_transform) test_probe = eval_transform(test_probe, /*seed=*/0);
    RETURN_IF_ERROR(CheckModelInput(run.model(), test_probe, config_path, row,
                                    "test images after eval_transform"));
    ASSIGN_OR_RETURN(ImageTransform train_transform,
                     CreateTrainTransform(run.training().augmentation()));
    ASSIGN_OR_RETURN(torch::Tensor train_probe, train->Image(0));
    if (train_transform) train_probe = train_transform(train_probe, /*seed=*/0);
    RETURN_IF_ERROR(CheckModelInput(run.model(), train_probe, config_path, row,
                                    "training images after training.augmentation"));
    // The fingerprint covers everything that decides the trained weights.
    Table1Config identity_config;
    *identity_config.mutable_runtime() = config.runtime();
    *identity_config.mutable_train_data() = config.train_data();
    *identity_config.add_models() = run;
    TrainerOptions trainer_options;
    trainer_options.name = run.label();
    trainer_options.seed = DeriveSeed(seed, {uint64_t(row)});
    trainer_options.data_loader_threads = config.runtime().data_loader_threads();
    trainer_options.device = device;
    trainer_options.checkpoint_path =
        absl::StrCat(output_dir, "/checkpoints/", FileStem(run.label()), ".pt");
    trainer_options.config_fingerprint = Sha256Hex(ToTextProto(identity_config));
    if (!stop_hook_used) trainer_options.stop_after_epochs = options.stop_after_epochs;
    absl::StatusOr<TrainingReport> training = TrainModel(*model, train, run.training(),
                                                         trainer_options);
    if (!training.ok()) return WithSource(training.status(), run.label());
    if (training->resumed_after_epochs < run.training().epochs()) stop_hook_used = true;

    EvalOptions eval_options{run.label(), DeriveSeed(seed, {kAttackStream, uint64_t(row)}),
                             config.runtime().data_loader_threads(), device};
    ASSIGN_OR_RETURN(RobustnessReport report, EvaluateRobustness(*model, test, eval_transform,
                                                                 config.evaluation(),
                                                                 eval_options));
    ModelResult* m = result.add_models();
    m->set_label(run.label());
    m->set_family(run.family());
    m->set_architecture(ArchitectureName(run.model()));
    m->set_num_parameters(CountParameters(*model));
    m->set_clean_accuracy(100.0 * report.clean_accuracy);
    for (const RadiusResult& r : report.radii) {
      auto* out = m->add_robust();
      out->set_epsilon(r.epsilon);
      out->set_label(r.label);
      out->set_robust_accuracy(100.0 * r.robust_accuracy);
      for (const AttackAccuracy& a : r.per_attack) {
        auto* pa = out->add_per_attack();
        pa->set_attack(a.attack);
        pa->set_accuracy(100.0 * a.accuracy);
      }
    }
    double train_seconds = 0;
    for (const EpochLog& e : training->epochs) {
      auto* s = m->add_training();
      s->set_epoch(e.epoch + 1);
      s->set_learning_rate(e.learning_rate);
      s->set_train_loss(e.train_loss);
      s->set_train_accuracy(100.0 * e.train_accuracy);
      s->set_seconds(e.seconds);
      s->set_images_per_second(e.images_per_second);
      if (e.epoch >= training->resumed_after_epochs) train_seconds += e.seconds;
    }
    m->set_train_seconds(train_seconds);
    m->set_eval_seconds(report.seconds);
    result.set_num_test_images(report.num_images);
  }

  std::string json;
  google::protobuf::util::JsonPrintOptions json_options;
  json_options.add_whitespace = true;
  json_options.always_print_primitive_fields = true;
  json_options.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(result, &json, json_options).ok()) {
    return absl::InternalError("cannot render results.json");
  }
  RETURN_IF_ERROR(WriteFileAtomically(output_dir + "/results.json", json));
  RETURN_IF_ERROR(WriteFileAtomically(output_dir + "/results.md", RenderTable1Markdown(result)));

  LinePlot plot;
  plot.title = absl::StrCat("Table 1 (", config.name(), "): robust accuracy vs. radius");
  plot.x_label = "L-inf radius epsilon (x 1/255)";
  plot.y_label = "accuracy (%), worst case over attacks";
  for (const ModelResult& m : result.models()) {
    PlotSeries series{m.label(), {{0.0, m.clean_accuracy()}}};
    for (const auto& r : m.robust()) series.points.push_back({255.0 * r.epsilon(), r.robust_accuracy()});
    std::sort(series.points.begin(), series.points.end());
    plot.series.push_back(std::move(series));
  }
  RETURN_IF_ERROR(WriteFileAtomically(output_dir + "/accuracy_vs_epsilon.svg", RenderSvg(plot)));
  return result;
}

std::string RenderTable1Markdown(const Table1Result& result) {
  std::string md = absl::StrCat("# Table 1: vanilla models under white-box attack (", result.name(),
                                ")\n\n");
  absl::StrAppend(&md, "Trained on ", result.num_train_images(), " images; evaluated on ",
                  result.num_test_images(),
                  " test images. Robust accuracy is the per-image worst case across the attacks "
                  "listed below. Accuracies in %.\n\n");
  if (result.models().empty()) return md;
  std::vector<std::string> header = {"Model", "Family", "Params", "Clean"};
  for (const auto& r : result.models(0).robust()) header.push_back(absl::StrCat("eps ", r.label()));
  absl::StrAppend(&md, "| ", absl::StrJoin(header, " | "), " |\n|");
  for (size_t i = 0; i < header.size(); ++i) absl::StrAppend(&md, i < 3 ? " --- |" : " ---: |");
  md += "\n";
  for (const ModelResult& m : result.models()) {
    std::vector<std::string> row = {m.label(), m.family(),
                                    absl::StrFormat("%.3fM", m.num_parameters() / 1e6),
                                    absl::StrFormat("%.2f", m.clean_accuracy())};
    for (const auto& r : m.robust()) row.push_back(absl::StrFormat("%.2f", r.robust_accuracy()));
    absl::StrAppend(&md, "| ", absl::StrJoin(row, " | "), " |\n");
  }
  absl::StrAppend(&md, "\n## Each attack alone\n\n| Model | Radius |");
  const auto& first = result.models(0).robust(0);
  for (const auto& a : first.per_attack()) absl::StrAppend(&md, " ", a.attack(), " |");
  absl::StrAppend(&md, " worst case |\n| --- | --- |");
  for (int i = 0; i <= first.per_attack_size(); ++i) md += " ---: |";
  md += "\n";
  for (const ModelResult& m : result.models()) {
    for (const auto& r : m.robust()) {
      absl::StrAppend(&md, "| ", m.label(), " | ", r.label(), " |");
      for (const auto& a : r.per_attack()) absl::StrAppendFormat(&md, " %.2f |", a.accuracy());
      absl::StrAppendFormat(&md, " %.2f |\n", r.robust_accuracy());
    }
  }
  absl::StrAppend(&md,
                  "\n## Training\n\n| Model | Architecture | Epochs | Final train loss | "
                  "Final train acc | Train img/s | Train time (s) | Attack time (s) |\n"
                  "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  for (const ModelResult& m : result.models()) {
    const auto& last = m.training(m.training_size() - 1);
    double images_per_second = 0;
    for (const auto& e : m.training()) images_per_second += e.images_per_second();
    images_per_second /= m.training_size();
    absl::StrAppendFormat(&md, "| %s | %s | %d | %.4f | %.2f | %.1f | %.1f | %.1f |\n", m.label(),
                          m.architecture(), m.training_size(), last.train_loss(),
                          last.train_accuracy(), images_per_second, m.train_seconds(),
                          m.eval_seconds());
  }
  absl::StrAppend(&md, "\nPlot: accuracy_vs_epsilon.svg. Provenance: provenance.pbtxt. Config: "
                       "resolved_config.pbtxt (sha256 ",
                  result.config_sha256(), ").\n");
  return md;
}

}  // namespace robustness
