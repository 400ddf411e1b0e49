// tools/texture_dictionary: builds the texture dictionary of a Texture Patch Attack config (Tables
// 3 and 4, experiments/patch_attack/patch_attack_config.proto) into the model store, with a
// progress line per class, before any victim is trained or attacked.
//
//   bazel run //tools/texture_dictionary -- --config=$PWD/experiments/table3_patch_attack/configs/fashion_mnist.pbtxt
//
// The feature network is trained by the store when missing (or loaded from imported weights).
// Killed at any point, the same command resumes after the last finished class; the tables then
// reuse the dictionary (same folder: <store>/textures/<config name>-<fingerprint>). The format:
// robustness/textures/texture_dictionary.h.
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_join.h"
#include "experiments/patch_attack/patch_attack_table.h"
#include "robustness/augmentation/transform_factory.h"
#include "robustness/base/process_setup.h"
#include "robustness/base/status_macros.h"
#include "robustness/base/torch_status.h"
#include "robustness/config/run_paths.h"
#include "robustness/datasets/dataset_factory.h"

ABSL_FLAG(std::string, config, "",
          "A Table 3 / Table 4 config (experiments/patch_attack/patch_attack_config.proto); only "
          "its data, runtime and dictionary blocks are used.");
ABSL_FLAG(std::string, store_root, "",
          "Model store root. Default: $ROBUSTNESS_MODEL_STORE, else out/models of the checkout.");
ABSL_FLAG(std::string, output_dir, "",
          "Where resolved_config.pbtxt and provenance.pbtxt go. Default: "
          "out/texture_dictionary/<config name>.");

namespace robustness {
namespace {

absl::StatusOr<experiments::DictionaryRecord> Build(const std::string& config_path,
                                                    const std::string& output_dir,
                                                    const HarnessOptions& options) {
  experiments::PatchAttackTableConfig config;
  ASSIGN_OR_RETURN(ConfigOrigins origins, LoadExperimentConfig(config_path, &config));
  RETURN_IF_ERROR(ValidatePatchAttackTableConfig(config, config_path, origins));
  ASSIGN_OR_RETURN(ExperimentRun run, ExperimentRun::Start("texture_dictionary", config_path,
                                                           config, config.runtime(), output_dir,
                                                           options));
  ASSIGN_OR_RETURN(std::shared_ptr<const Dataset> train, CreateDataset(config.train_data()));
  ASSIGN_OR_RETURN(std::shared_ptr<const Dataset> test, CreateDataset(config.test_data()));
  ASSIGN_OR_RETURN(ImageTransform eval_transform, CreateEvalTransform(config.eval_transform()));
  experiments::DictionaryRecord record;
  RETURN_IF_ERROR(
      ObtainTextureDictionary(run, config, train, *test, eval_transform, &record).status());
  return record;
}

}  // namespace
}  // namespace robustness

int main(int argc, char** argv) {
  robustness::PrepareTensorProcess(argv);
  absl::SetProgramUsageMessage(
      "Builds (or resumes) the texture dictionary of a TPA config in the model store.\n"
      "  tools/texture_dictionary --config=cfg.pbtxt [--store_root=DIR] [--output_dir=DIR]");
  absl::ParseCommandLine(argc, argv);
  std::string config = absl::GetFlag(FLAGS_config);
  if (config.empty()) {
    std::fprintf(stderr, "error: --config is required (see --help)\n");
    return 2;
  }
  config = robustness::ResolveUserPath(config);
  robustness::HarnessOptions options;
  options.store_root = robustness::ResolveStoreRoot(absl::GetFlag(FLAGS_store_root));
  options.command_line = absl::StrJoin(argv, argv + argc, " ");
  const std::string output_dir = robustness::ResolveOutputDir(absl::GetFlag(FLAGS_output_dir),
                                                              "texture_dictionary", config);
  absl::StatusOr<robustness::experiments::DictionaryRecord> record;
  try {
    record = robustness::Build(config, output_dir, options);
  } catch (const std::exception& e) {
    record = absl::InternalError(robustness::ExceptionSummary(e));
  }
  if (!record.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(record.status().message()).c_str());
    return 1;
  }
  std::printf("texture dictionary %s: %s\n  %d textures per class at %d px, feature network %s "
              "(%.1f%% clean on the evaluated test images), %.0f s of building\n",
              record->reused() ? "reused" : "built", record->dir().c_str(),
              record->textures_per_class(), record->texture_size(),
              record->feature_network().c_str(), record->feature_network_clean_accuracy(),
              record->build_seconds());
  return 0;
}
