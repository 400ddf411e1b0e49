// The experiment harness: what every table binary needs, once. A table's Run function is
//
//   ASSIGN_OR_RETURN(ConfigOrigins origins, LoadExperimentConfig(path, &config));
//   RETURN_IF_ERROR(ValidateTableNConfig(config, path, origins));   // uses the Validate* below
//   ASSIGN_OR_RETURN(ExperimentRun run, ExperimentRun::Start("tableN", path, config,
//                                                            config.runtime(), output_dir, opts));
//   for each row: ASSIGN_OR_RETURN(StoredModel m, run.ObtainModel(row, train_data, train, probe));
//                 evaluate it (EvaluateRobustness, ...), MakeModelResult(...)
//   RETURN_IF_ERROR(run.WriteResults(result, markdown, {{"plot.svg", svg}}));
//
// Configs compose (robustness/config/composed_config.h) and are strict: every field set, every
// range check run before any tensor work, each error naming the file and line that set the
// value. The output folder gets resolved_config.pbtxt and provenance.pbtxt before the first
// step, then results.json, results.md and plots, each written atomically. Models come from the
// train-once store (model_store.h), so a table re-run trains nothing it already has.
#ifndef ROBUSTNESS_HARNESS_EXPERIMENT_H_
#define ROBUSTNESS_HARNESS_EXPERIMENT_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/repeated_field.h"
#include "robustness/config/composed_config.h"
#include "robustness/datasets/dataset.h"
#include "robustness/datasets/image_transform.h"
#include "robustness/evaluation/auto_attack_eval.h"
#include "robustness/evaluation/robust_accuracy.h"
#include "robustness/harness/model_store.h"
#include "robustness/harness/results.pb.h"
#include "robustness/proto/augmentation.pb.h"
#include "robustness/proto/dataset.pb.h"
#include "robustness/proto/model_run.pb.h"
#include "robustness/proto/provenance.pb.h"
#include "robustness/proto/runtime.pb.h"

namespace robustness {

// Reads and composes `path` into `config`, then requires every field to be set. Returns where
// each field was written, for ValidateX's errors.
absl::StatusOr<ConfigOrigins> LoadExperimentConfig(const std::string& path,
                                                   google::protobuf::Message* config);

// "cpu", "cuda" or "cuda:N". With `require_available`, FailedPrecondition when this LibTorch
// has no CUDA device (so a GPU config still validates on a CPU-only machine).
absl::StatusOr<torch::Device> ParseDevice(const std::string& device, bool require_available);

// Range checks of the shared blocks. `field` is the block's path in the config ("runtime",
// "train_data", "models"); errors read "<file>:<line>: <field>.<subfield>: <problem>", the file
// and line being where the offending value was written (an included recipe, say), or
// "<source>: ..." when unknown.
absl::Status ValidateRuntimeBlock(const proto::RuntimeConfig& runtime, const std::string& field,
                                  const std::string& source, const ConfigOrigins& origins);
absl::Status ValidateDataBlock(const proto::DatasetConfig& data, const std::string& field,
                               const std::string& source, const ConfigOrigins& origins);
// One run at `field` ("run"): label non-empty, replica >= 0, model and training blocks valid.
absl::Status ValidateModelRun(const proto::ModelRun& run, const std::string& field,
                              const proto::DatasetConfig& train_data, const std::string& source,
                              const ConfigOrigins& origins);
// Labels non-empty and unique, model and training blocks valid for `train_size` images
// (the subset size, or unknown when the whole set is used).
absl::Status ValidateModelRuns(const google::protobuf::RepeatedPtrField<proto::ModelRun>& runs,
                               const std::string& field, const proto::DatasetConfig& train_data,
                               const std::string& source, const ConfigOrigins& origins);
absl::Status ValidateRobustnessBlock(const proto::RobustnessEvalConfig& evaluation,
                                     const std::string& field,
                                     const proto::DatasetConfig& test_data,
                                     const std::string& source, const ConfigOrigins& origins);

struct HarnessOptions {
  std::string command_line;  // for provenance
  std::string store_root;    // "" = ResolveStoreRoot("") (robustness/config/run_paths.h)
  int stop_after_epochs = -1;  // test hook: the first row that trains stops after this many
};

class ExperimentRun {
 public:
  // Picks the device, seeds and threads the process (robustness/base/seed.h), opens the store,
  // writes resolved_config.pbtxt and provenance.pbtxt into `output_dir`.
  static absl::StatusOr<ExperimentRun> Start(const std::string& binary,
                                             const std::string& config_path,
                                             const google::protobuf::Message& resolved_config,
                                             const proto::RuntimeConfig& runtime,
                                             const std::string& output_dir,
                                             const HarnessOptions& options);

  torch::Device device() const { return device_; }
  int64_t seed() const { return runtime_.seed(); }
  const proto::RuntimeConfig& runtime() const { return runtime_; }
  const proto::Provenance& provenance() const { return provenance_; }
  const ModelStore& store() const { return store_; }
  const std::string& output_dir() const { return output_dir_; }

  // Row `row` (for messages) of the config: checks that the model's input contract matches the
  // transformed training and test images, then asks the store for the trained model.
  absl::StatusOr<StoredModel> ObtainModel(int row, const proto::ModelRun& run,
                                          const proto::DatasetConfig& train_data,
                                          std::shared_ptr<const Dataset> train,
                                          const Dataset& test, const ImageTransform& eval_transform);

  // The attack seed of row `row`: evaluation randomness belongs to the table, not the model.
  int64_t EvaluationSeed(int row) const;

  // results.json (`result` as JSON, proto field names), results.md, then each extra file
  // (name, contents), all atomically.
  absl::Status WriteResults(const google::protobuf::Message& result, const std::string& markdown,
                            const std::vector<std::pair<std::string, std::string>>& extra) const;

 private:
  ExperimentRun(std::string config_path, std::string output_dir, proto::RuntimeConfig runtime,
                torch::Device device, proto::Provenance provenance, ModelStore store,
                HarnessOptions options)
      : config_path_(std::move(config_path)),
        output_dir_(std::move(output_dir)),
        runtime_(std::move(runtime)),
        device_(device),
        provenance_(std::move(provenance)),
        store_(std::move(store)),
        options_(std::move(options)) {}

  std::string config_path_;
  std::string output_dir_;
  proto::RuntimeConfig runtime_;
  torch::Device device_;
  proto::Provenance provenance_;
  ModelStore store_;
  HarnessOptions options_;
  bool stop_hook_used_ = false;
};

// `result` as results.json text: proto field names, every field printed, indented.
absl::StatusOr<std::string> ToResultJson(const google::protobuf::Message& result);

// A row's record: identity, store facts, training summary, and the robustness report (percent).
harness::ModelResult MakeModelResult(const proto::ModelRun& run, const StoredModel& model,
                                     const RobustnessReport& report);

// Validates an AutoAttack block of an experiment config against the test data, located like
// ValidateRobustnessBlock.
absl::Status ValidateAutoAttackBlock(const proto::AutoAttackEvalConfig& auto_attack,
                                     const std::string& field,
                                     const proto::DatasetConfig& test_data,
                                     const std::string& source, const ConfigOrigins& origins);

// One row of a robustness table (Tables 1 and 2): the stored or newly trained model
// (ExperimentRun::ObtainModel), evaluated with `evaluation` (FGSM / PGD, worst case per image,
// on evaluation.num_images) and then `auto_attack` (on auto_attack.num_images), seeded with the
// row's evaluation seed. The record's eval_seconds covers both.
absl::StatusOr<harness::ModelResult> TrainAndAttackRow(
    ExperimentRun& run, int row, const proto::ModelRun& model_run,
    const proto::DatasetConfig& train_data, std::shared_ptr<const Dataset> train,
    std::shared_ptr<const Dataset> test, const ImageTransform& eval_transform,
    const proto::RobustnessEvalConfig& evaluation, const proto::AutoAttackEvalConfig& auto_attack);

// Appends one harness::AutoAttackRadius per radius of `report` to `out` (percentages): the one
// AutoAttack record of the tables and tools/evaluate.
void AddAutoAttackResults(const proto::AutoAttackEvalConfig& config,
                          const AutoAttackEvalReport& report,
                          google::protobuf::RepeatedPtrField<harness::AutoAttackRadius>* out);

}  // namespace robustness

#endif  // ROBUSTNESS_HARNESS_EXPERIMENT_H_
