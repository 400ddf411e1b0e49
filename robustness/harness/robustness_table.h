// What Tables 1 and 2 share (and any later "architecture A vs. B under attack" table): a config
// with the fields name, runtime, train_data, test_data, eval_transform, models, evaluation and
// auto_attack, and a result with name, config_sha256, num_train_images, num_test_images and
// models (harness::ModelResult). The table binaries add only their own rules, report and plots.
//
//   ASSIGN_OR_RETURN(auto table, TrainAndAttackTable<MyConfig, MyResult>(
//       "my_table", config_path, output_dir, options, /*extra_rules=*/nullptr));
//   RETURN_IF_ERROR(table.run.WriteResults(table.result, Render(table.result), {}));
#ifndef ROBUSTNESS_HARNESS_ROBUSTNESS_TABLE_H_
#define ROBUSTNESS_HARNESS_ROBUSTNESS_TABLE_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "robustness/augmentation/transform_factory.h"
#include "robustness/base/status_macros.h"
#include "robustness/config/composed_config.h"
#include "robustness/datasets/dataset_factory.h"
#include "robustness/harness/experiment.h"

namespace robustness {

// Every block in range (the harness's Validate* for each field); runs no tensor work. Errors
// name the file and line that set the offending value (`origins`), else `source`.
// The blocks every table of model rows has: runtime, train_data, test_data, eval_transform and
// the rows themselves (Tables 1-2, the ImageNet-C column).
template <typename Config>
absl::Status ValidateModelRowBlocks(const Config& c, const std::string& source,
                                    const ConfigOrigins& origins) {
  RETURN_IF_ERROR(ValidateRuntimeBlock(c.runtime(), "runtime", source, origins));
  RETURN_IF_ERROR(ValidateDataBlock(c.train_data(), "train_data", source, origins));
  RETURN_IF_ERROR(ValidateDataBlock(c.test_data(), "test_data", source, origins));
  const absl::Status eval_transform = ValidateEvalTransform(c.eval_transform());
  if (!eval_transform.ok()) {
    return absl::Status(eval_transform.code(),
                        absl::StrCat(source, ": ", eval_transform.message()));
  }
  return ValidateModelRuns(c.models(), "models", c.train_data(), source, origins);
}

template <typename Config>
absl::Status ValidateRobustnessTable(const Config& c, const std::string& source,
                                     const ConfigOrigins& origins) {
  RETURN_IF_ERROR(ValidateModelRowBlocks(c, source, origins));
  RETURN_IF_ERROR(
      ValidateRobustnessBlock(c.evaluation(), "evaluation", c.test_data(), source, origins));
  return ValidateAutoAttackBlock(c.auto_attack(), "auto_attack", c.test_data(), source, origins);
}

template <typename Config, typename Result>
struct RobustnessTableRun {
  Config config;  // as loaded, composed and validated
  ExperimentRun run;
  Result result;
};

// Loads, composes and validates `config_path` (ValidateRobustnessTable, then `extra_rules` when
// given), starts the run into `output_dir` (resolved config and provenance written), then
// trains or reuses every row and evaluates it (TrainAndAttackRow). Writes no results: the
// caller renders and writes them with run.WriteResults.
template <typename Config, typename Result>
absl::StatusOr<RobustnessTableRun<Config, Result>> TrainAndAttackTable(
    const std::string& binary, const std::string& config_path, const std::string& output_dir,
    const HarnessOptions& options,
    const std::function<absl::Status(const Config&, const std::string&, const ConfigOrigins&)>&
        extra_rules) {
  Config config;
  ASSIGN_OR_RETURN(ConfigOrigins origins, LoadExperimentConfig(config_path, &config));
  RETURN_IF_ERROR(ValidateRobustnessTable(config, config_path, origins));
  if (extra_rules) RETURN_IF_ERROR(extra_rules(config, config_path, origins));
  ASSIGN_OR_RETURN(ExperimentRun run, ExperimentRun::Start(binary, config_path, config,
                                                           config.runtime(), output_dir, options));
  ASSIGN_OR_RETURN(std::shared_ptr<const Dataset> train, CreateDataset(config.train_data()));
  ASSIGN_OR_RETURN(std::shared_ptr<const Dataset> test, CreateDataset(config.test_data()));
  ASSIGN_OR_RETURN(ImageTransform eval_transform, CreateEvalTransform(config.eval_transform()));
  Result result;
  result.set_name(config.name());
  result.set_config_sha256(run.provenance().config_sha256());
  result.set_num_train_images(train->size());
  result.set_num_test_images(config.evaluation().num_images() == 0
                                 ? test->size()
                                 : config.evaluation().num_images());
  for (int row = 0; row < config.models_size(); ++row) {
    ASSIGN_OR_RETURN(*result.add_models(),
                     TrainAndAttackRow(run, row, config.models(row), config.train_data(), train,
                                       test, eval_transform, config.evaluation(),
                                       config.auto_attack()));
  }
  return RobustnessTableRun<Config, Result>{std::move(config), std::move(run), std::move(result)};
}

}  // namespace robustness

#endif  // ROBUSTNESS_HARNESS_ROBUSTNESS_TABLE_H_
