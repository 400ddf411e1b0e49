#include "tools/train/train_tool.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "robustness/augmentation/transform_factory.h"
#include "robustness/base/atomic_file.h"
#include "robustness/base/seed.h"
#include "robustness/base/status_macros.h"
#include "robustness/config/composed_config.h"
#include "robustness/config/require_fields.h"
#include "robustness/datasets/dataset_factory.h"
#include "robustness/distributed/world.h"
#include "robustness/evaluation/robust_accuracy.h"
#include "robustness/harness/experiment.h"
#include "robustness/harness/model_store.h"
#include "robustness/weights/module_state_dict.h"

namespace robustness {

absl::StatusOr<tools::TrainConfig> LoadTrainConfig(const std::string& config_path,
                                                   const std::string& set_fragment) {
  tools::TrainConfig config;
  ConfigOrigins origins;
  const std::string& source = config_path;
  RETURN_IF_ERROR(ReadComposedConfigWithFragment(config_path, set_fragment, &config, &origins));
  RETURN_IF_ERROR(RequireAllFieldsSet(config, source));
  RETURN_IF_ERROR(ValidateRuntimeBlock(config.runtime(), "runtime", source, origins));
  RETURN_IF_ERROR(ValidateDataBlock(config.train_data(), "train_data", source, origins));
  RETURN_IF_ERROR(ValidateDataBlock(config.test_data(), "test_data", source, origins));
  RETURN_IF_ERROR(ValidateModelRun(config.run(), "run", config.train_data(), source, origins));
  return config;
}

absl::StatusOr<tools::TrainResult> RunTrainTool(const TrainToolOptions& options) {
  ASSIGN_OR_RETURN(const tools::TrainConfig config,
                   LoadTrainConfig(options.config_path, options.set_fragment));
  ASSIGN_OR_RETURN(torch::Device device, ParseDevice(config.runtime().device(), true));
  ConfigureRuntime(config.runtime().seed(), config.runtime().num_threads());

  ASSIGN_OR_RETURN(std::shared_ptr<const Dataset> train, CreateDataset(config.train_data()));
  ASSIGN_OR_RETURN(std::shared_ptr<const Dataset> test, CreateDataset(config.test_data()));
  ASSIGN_OR_RETURN(ImageTransform eval_transform, CreateEvalTransform(config.eval_transform()));
  ModelRequest request{config.name(), config.run(), config.train_data(), config.runtime()};
  ObtainOptions obtain;
  obtain.device = device;
  obtain.data_loader_threads = config.runtime().data_loader_threads();
  obtain.command_line = options.command_line;
  obtain.teacher_store_root = options.store_root;  // a stored distillation teacher lives there
  StoredModel stored;
  if (options.output_dir.empty()) {
    ASSIGN_OR_RETURN(ModelStore store, ModelStore::Open(options.store_root));
    ASSIGN_OR_RETURN(stored, store.Obtain(request, train, obtain));
  } else {
    ASSIGN_OR_RETURN(stored, ObtainModelIn(options.output_dir, request, train, obtain));
  }

  proto::RobustnessEvalConfig clean;  // no radii, no attacks: clean accuracy only
  clean.set_num_images(0);
  clean.set_batch_size(256);
  EvalOptions eval{config.name() + " clean", 0, config.runtime().data_loader_threads(), device};
  ASSIGN_OR_RETURN(RobustnessReport report,
                   EvaluateRobustness(*stored.model, test, eval_transform, clean, eval));

  tools::TrainResult result;
  result.set_name(config.name());
  result.set_model_dir(stored.dir);
  result.set_fingerprint(stored.fingerprint);
  result.set_weights_sha256(stored.weights_sha256);
  result.set_reused(stored.reused);
  result.set_epochs(static_cast<int>(stored.report.epochs.size()));
  if (!stored.report.epochs.empty()) {
    result.set_final_train_loss(stored.report.epochs.back().train_loss);
  }
  result.set_clean_accuracy(100.0 * report.clean_accuracy);
  result.set_num_test_images(report.num_images);
  if (!options.export_path.empty()) result.set_exported_weights(options.export_path);
  // Under torchrun every rank trained and evaluated (sharded); rank 0 writes.
  ASSIGN_OR_RETURN(std::shared_ptr<World> world, CurrentWorld());
  if (!world->is_main()) return result;
  if (!options.export_path.empty()) {
    RETURN_IF_ERROR(ExportWeightsFile(*stored.model, options.export_path));
  }
  ASSIGN_OR_RETURN(std::string json, ToResultJson(result));
  RETURN_IF_ERROR(WriteFileAtomically(stored.dir + "/train_result.json", json));
  return result;
}

}  // namespace robustness
