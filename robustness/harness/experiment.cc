#include "robustness/harness/experiment.h"

#include <cstdlib>
#include <filesystem>
#include <limits>
#include <set>

#include <torch/cuda.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"
#include "robustness/augmentation/transform_factory.h"
#include "robustness/base/atomic_file.h"
#include "robustness/base/seed.h"
#include "robustness/base/status_macros.h"
#include "robustness/base/torch_status.h"
#include "robustness/config/provenance.h"
#include "robustness/config/require_fields.h"
#include "robustness/config/run_paths.h"
#include "robustness/datasets/dataset_factory.h"
#include "robustness/models/model_factory.h"
#include "robustness/training/distillation.h"

namespace robustness {
namespace {

// `status` from a validator whose messages start with `from` ("dataset.") rewritten to start
// with `to` ("train_data."), then annotated with the origin of the value.
absl::Status Located(const absl::Status& status, absl::string_view from, absl::string_view to,
                     const std::string& source, const ConfigOrigins& origins) {
  if (status.ok()) return status;
  std::string message(status.message());
  if (!from.empty() && absl::StartsWith(message, from)) {
    message = absl::StrCat(to, message.substr(from.size()));
  } else if (from.empty()) {
    message = absl::StrCat(to, message);
  }
  const absl::Status rewritten(status.code(), message);
  const absl::Status annotated = origins.Annotate(rewritten, "");
  if (annotated.message() != rewritten.message()) return annotated;
  return absl::Status(status.code(), absl::StrCat(source, ": ", message));
}

int64_t KnownSize(const proto::DatasetConfig& data) {
  return data.subset_size() > 0 ? data.subset_size() : std::numeric_limits<int64_t>::max();
}

absl::Status CheckModelInput(const proto::ModelConfig& model, const torch::Tensor& image, int row,
                             absl::string_view what) {
  if (image.dim() == 3 && image.size(0) == model.in_channels() &&
      image.size(1) == model.image_size() && image.size(2) == model.image_size()) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "models[", row, "].model expects [in_channels=", model.in_channels(),
      ", image_size=", model.image_size(), ", image_size=", model.image_size(), "] but the ",
      what, " are [", absl::StrJoin(image.sizes(), ", "), "]"));
}

}  // namespace

absl::StatusOr<ConfigOrigins> LoadExperimentConfig(const std::string& path,
                                                   google::protobuf::Message* config) {
  ConfigOrigins origins;
  RETURN_IF_ERROR(ReadComposedConfig(path, config, &origins));
  RETURN_IF_ERROR(RequireAllFieldsSet(*config, path));
  return origins;
}

absl::StatusOr<torch::Device> ParseDevice(const std::string& device, bool require_available) {
  if (device == "cpu") return torch::Device(torch::kCPU);
  if (device == "cuda" || absl::StartsWith(device, "cuda:")) {
    if (require_available && !torch::cuda::is_available()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "runtime.device: \"", device,
          "\" requested, but this LibTorch has no usable CUDA device (build with LIBTORCH_PATH "
          "pointing at a CUDA LibTorch: see third_party/README.md)"));
    }
    try {
      return torch::Device(device);
    } catch (const std::exception&) {
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("runtime.device: must be \"cpu\", \"cuda\" or \"cuda:N\", got \"", device, "\""));
}

absl::Status ValidateRuntimeBlock(const proto::RuntimeConfig& rt, const std::string& field,
                                  const std::string& source, const ConfigOrigins& origins) {
  absl::Status status;
  if (rt.num_threads() < 0 || rt.num_threads() > 1024) {
    status = absl::InvalidArgumentError(absl::StrCat(
        "runtime.num_threads: must be in [0, 1024] (0 = every core), got ", rt.num_threads()));
  } else if (rt.data_loader_threads() < 1 || rt.data_loader_threads() > 256) {
    status = absl::InvalidArgumentError(absl::StrCat(
        "runtime.data_loader_threads: must be in [1, 256], got ", rt.data_loader_threads()));
  } else {
    status = ParseDevice(rt.device(), /*require_available=*/false).status();
  }
  return Located(status, "runtime.", field + ".", source, origins);
}

absl::Status ValidateDataBlock(const proto::DatasetConfig& data, const std::string& field,
                               const std::string& source, const ConfigOrigins& origins) {
  absl::Status status = ValidateDatasetConfig(data);
  if (!status.ok() && !absl::StartsWith(status.message(), "dataset.")) {
    return Located(status, "", field + ": ", source, origins);
  }
  return Located(status, "dataset.", field + ".", source, origins);
}

absl::Status ValidateModelRun(const proto::ModelRun& run, const std::string& field,
                              const proto::DatasetConfig& train_data, const std::string& source,
                              const ConfigOrigins& origins) {
  const std::string prefix = field + ".";
  if (run.label().empty()) {
    return Located(absl::InvalidArgumentError("label: must be non-empty"), "", prefix, source,
                   origins);
  }
  if (run.replica() < 0) {
    return Located(
        absl::InvalidArgumentError(absl::StrCat("replica: must be >= 0, got ", run.replica())),
        "", prefix, source, origins);
  }
  RETURN_IF_ERROR(Located(ValidateModelConfig(run.model()), "", prefix, source, origins));
  RETURN_IF_ERROR(Located(ValidateTrainingConfig(run.training(), KnownSize(train_data),
                                                 run.model().image_size(),
                                                 run.model().normalization().mean_size()),
                          "", prefix, source, origins));
  if (!run.has_distillation()) return absl::OkStatus();
  RETURN_IF_ERROR(Located(ValidateDistillationConfig(run.distillation(), run.model().num_classes()),
                          "", prefix, source, origins));
  if (run.distillation().has_stored()) {
    // The teacher trains on the student's data: the same checks as any row.
    const proto::ModelRun& teacher = run.distillation().stored();
    RETURN_IF_ERROR(Located(ValidateModelConfig(teacher.model()), "",
                            prefix + "distillation.stored.", source, origins));
    RETURN_IF_ERROR(Located(ValidateTrainingConfig(teacher.training(), KnownSize(train_data),
                                                   teacher.model().image_size(),
                                                   teacher.model().normalization().mean_size()),
                            "", prefix + "distillation.stored.", source, origins));
  }
  return absl::OkStatus();
}

absl::Status ValidateModelRuns(const google::protobuf::RepeatedPtrField<proto::ModelRun>& runs,
                               const std::string& field, const proto::DatasetConfig& train_data,
                               const std::string& source, const ConfigOrigins& origins) {
  std::set<std::string> labels;
  for (int i = 0; i < runs.size(); ++i) {
    const proto::ModelRun& run = runs.Get(i);
    const std::string row = absl::StrCat(field, "[", i, "]");
    if (!run.label().empty() && !labels.insert(run.label()).second) {
      return Located(absl::InvalidArgumentError(absl::StrCat(
                         "label: must be unique, got \"", run.label(), "\" twice")),
                     "", row + ".", source, origins);
    }
    RETURN_IF_ERROR(ValidateModelRun(run, row, train_data, source, origins));
  }
  return absl::OkStatus();
}

absl::Status ValidateRobustnessBlock(const proto::RobustnessEvalConfig& evaluation,
                                     const std::string& field,
                                     const proto::DatasetConfig& test_data,
                                     const std::string& source, const ConfigOrigins& origins) {
  return Located(ValidateRobustnessEvalConfig(evaluation, KnownSize(test_data)), "evaluation.",
                 field + ".", source, origins);
}

absl::Status ValidateAutoAttackBlock(const proto::AutoAttackEvalConfig& auto_attack,
                                     const std::string& field,
                                     const proto::DatasetConfig& test_data,
                                     const std::string& source, const ConfigOrigins& origins) {
  return Located(ValidateAutoAttackEvalConfig(auto_attack, KnownSize(test_data)), "auto_attack.",
                 field + ".", source, origins);
}

absl::StatusOr<harness::ModelResult> TrainAndAttackRow(
    ExperimentRun& run, int row, const proto::ModelRun& model_run,
    const proto::DatasetConfig& train_data, std::shared_ptr<const Dataset> train,
    std::shared_ptr<const Dataset> test, const ImageTransform& eval_transform,
    const proto::RobustnessEvalConfig& evaluation, const proto::AutoAttackEvalConfig& auto_attack) {
  ASSIGN_OR_RETURN(StoredModel stored,
                   run.ObtainModel(row, model_run, train_data, train, *test, eval_transform));
  const EvalOptions eval_options{model_run.label(), run.EvaluationSeed(row),
                                 run.runtime().data_loader_threads(), run.device()};
  ASSIGN_OR_RETURN(RobustnessReport report, EvaluateRobustness(*stored.model, test, eval_transform,
                                                               evaluation, eval_options));
  harness::ModelResult result = MakeModelResult(model_run, stored, report);
  ASSIGN_OR_RETURN(AutoAttackEvalReport aa,
                   EvaluateAutoAttack(*stored.model, test, eval_transform, auto_attack,
                                      eval_options, /*keep_adversarial=*/false));
  AddAutoAttackResults(auto_attack, aa, result.mutable_auto_attack());
  result.set_eval_seconds(result.eval_seconds() + aa.seconds);
  return result;
}

void AddAutoAttackResults(const proto::AutoAttackEvalConfig& config,
                          const AutoAttackEvalReport& report,
                          google::protobuf::RepeatedPtrField<harness::AutoAttackRadius>* radii) {
  const double n = static_cast<double>(report.num_images);
  for (const AutoAttackRadiusResult& r : report.radii) {
    harness::AutoAttackRadius* out = radii->Add();
    out->set_epsilon(r.epsilon);
    out->set_label(r.label);
    out->set_norm(proto::Norm_Name(config.norm()));
    out->set_version(AutoAttackVersionName(config));
    out->set_num_images(report.num_images);
    out->set_clean_accuracy(100.0 * report.clean_correct / n);
    for (const AutoAttackStageTotals& s : r.stages) {
      harness::AutoAttackStage* stage = out->add_stages();
      stage->set_name(s.name);
      stage->set_robust_accuracy(100.0 * s.robust_after / n);
      stage->set_attacked(s.attacked);
      stage->set_fooled(s.fooled);
      stage->set_seconds(s.seconds);
    }
    out->set_robust_accuracy(100.0 * r.robust / n);
    out->set_max_perturbation(r.max_perturbation);
    for (const std::string& w : r.warnings) out->add_warnings(w);
  }
}

absl::StatusOr<ExperimentRun> ExperimentRun::Start(const std::string& binary,
                                                   const std::string& config_path,
                                                   const google::protobuf::Message& resolved,
                                                   const proto::RuntimeConfig& runtime,
                                                   const std::string& output_dir,
                                                   const HarnessOptions& options) {
  absl::StatusOr<torch::Device> device = ParseDevice(runtime.device(), /*require_available=*/true);
  if (!device.ok()) {
    return absl::Status(device.status().code(),
                        absl::StrCat(config_path, ": ", device.status().message()));
  }
  ConfigureRuntime(runtime.seed(), runtime.num_threads());
  ASSIGN_OR_RETURN(ModelStore store, ModelStore::Open(options.store_root.empty()
                                                          ? ResolveStoreRoot("")
                                                          : options.store_root));
  RunIdentity identity{binary, options.command_line, config_path, runtime.seed(),
                       runtime.device()};
  ASSIGN_OR_RETURN(proto::Provenance provenance, WriteRunHeader(output_dir, identity, resolved));
  std::fprintf(stderr, "model store: %s\n", store.root().c_str());
  return ExperimentRun(config_path, output_dir, runtime, *device, std::move(provenance),
                       std::move(store), options);
}

absl::StatusOr<StoredModel> ExperimentRun::ObtainModel(int row, const proto::ModelRun& run,
                                                       const proto::DatasetConfig& train_data,
                                                       std::shared_ptr<const Dataset> train,
                                                       const Dataset& test,
                                                       const ImageTransform& eval_transform) {
  auto located = [&](const absl::Status& s) {
    return s.ok() ? s : absl::Status(s.code(), absl::StrCat(config_path_, ": ", s.message()));
  };
  // The model's input contract must match what the transforms produce, or forward() would fail
  // deep inside LibTorch.
  ASSIGN_OR_RETURN(torch::Tensor test_probe, test.Image(0));
  if (eval_transform) test_probe = eval_transform(test_probe, /*seed=*/0);
  RETURN_IF_ERROR(located(
      CheckModelInput(run.model(), test_probe, row, "test images after eval_transform")));
  const proto::Normalization& normalization = run.model().normalization();
  ASSIGN_OR_RETURN(ImageTransform train_transform,
                   CreateTrainTransform(
                       run.training().augmentation(),
                       std::vector<float>(normalization.mean().begin(), normalization.mean().end()),
                       std::vector<float>(normalization.std().begin(), normalization.std().end())));
  ASSIGN_OR_RETURN(torch::Tensor train_probe, train->Image(0));
  if (train_transform) {
    RETURN_IF_ERROR(located(CallTorch(
        absl::StrCat("models[", row, "].training.augmentation does not fit the training images"),
        [&] {
          train_probe = train_transform(train_probe, /*seed=*/0);
          return absl::OkStatus();
        },
        absl::StatusCode::kInvalidArgument)));
  }
  RETURN_IF_ERROR(located(CheckModelInput(run.model(), train_probe, row,
                                          "training images after training.augmentation")));

  ModelRequest request{run.label(), run, train_data, runtime_};
  ObtainOptions obtain;
  obtain.device = device_;
  obtain.data_loader_threads = runtime_.data_loader_threads();
  obtain.command_line = options_.command_line;
  if (!stop_hook_used_) obtain.stop_after_epochs = options_.stop_after_epochs;
  absl::StatusOr<StoredModel> model = store_.Obtain(request, std::move(train), obtain);
  if (model.ok() && !model->reused) stop_hook_used_ = true;
  return model;
}

int64_t ExperimentRun::EvaluationSeed(int row) const {
  return static_cast<int64_t>(DeriveSeed(runtime_.seed(), {kAttackStream, uint64_t(row)}));
}

absl::Status ExperimentRun::WriteResults(
    const google::protobuf::Message& result, const std::string& markdown,
    const std::vector<std::pair<std::string, std::string>>& extra) const {
  ASSIGN_OR_RETURN(std::string json, ToResultJson(result));
  RETURN_IF_ERROR(WriteFileAtomically(output_dir_ + "/results.json", json));
  RETURN_IF_ERROR(WriteFileAtomically(output_dir_ + "/results.md", markdown));
  for (const auto& [name, contents] : extra) {
    RETURN_IF_ERROR(WriteFileAtomically(output_dir_ + "/" + name, contents));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ToResultJson(const google::protobuf::Message& result) {
  std::string json;
  google::protobuf::util::JsonPrintOptions json_options;
  json_options.add_whitespace = true;
  json_options.always_print_primitive_fields = true;
  json_options.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(result, &json, json_options).ok()) {
    return absl::InternalError(
        absl::StrCat("cannot render ", result.GetDescriptor()->full_name(), " as JSON"));
  }
  return json;
}

harness::ModelResult MakeModelResult(const proto::ModelRun& run, const StoredModel& stored,
                                     const RobustnessReport& report) {
  harness::ModelResult m;
  m.set_label(run.label());
  m.set_family(run.family());
  m.set_architecture(ArchitectureName(run.model()));
  m.set_num_parameters(CountParameters(*stored.model));
  m.set_clean_accuracy(100.0 * report.clean_accuracy);
  for (const RadiusResult& r : report.radii) {
    auto* out = m.add_robust();
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
  for (const EpochLog& e : stored.report.epochs) {
    auto* s = m.add_training();
    s->set_epoch(e.epoch + 1);
    s->set_learning_rate(e.learning_rate);
    s->set_train_loss(e.train_loss);
    s->set_train_accuracy(100.0 * e.train_accuracy);
    s->set_seconds(e.seconds);
    s->set_images_per_second(e.images_per_second);
    if (e.epoch >= stored.report.resumed_after_epochs) train_seconds += e.seconds;
  }
  m.set_train_seconds(train_seconds);
  m.set_eval_seconds(report.seconds);
  m.set_fingerprint(stored.fingerprint);
  m.set_weights_sha256(stored.weights_sha256);
  m.set_reused(stored.reused);
  m.set_model_dir(stored.dir);
  m.set_paper_row(run.paper_row());
  return m;
}

}  // namespace robustness
