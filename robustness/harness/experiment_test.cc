#include "robustness/harness/experiment.h"

#include <stdlib.h>

#include "glog/logging.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/atomic_file.h"
#include "robustness/base/status_matchers.h"
#include "robustness/proto/model_run.pb.h"

namespace robustness {
namespace {

using ::testing::HasSubstr;

// A config holding one row whose recipe comes from an include.
struct Fixture {
  std::string recipe, top;
};

Fixture WriteConfigs(const std::string& peak_lr) {
  std::string dir = ::testing::TempDir();
  while (!dir.empty() && dir.back() == '/') dir.pop_back();
  Fixture f{dir + "/recipe_" + peak_lr + ".pbtxt", dir + "/row_" + peak_lr + ".pbtxt"};
  CHECK(WriteFileAtomically(
            f.recipe,
            "epochs: 2\nbatch_size: 16\nlabel_smoothing: 0\nimages_per_epoch: 0\n"
            "lr_reference_batch_size: 0 accumulation_steps: 1\n"
            "optimizer {\n  peak_lr: " + peak_lr + "\n  weight_decay: 0 no_decay_on_1d_params: false\n"
            "  sgd { momentum: 0.9 nesterov: false } }\n"
            "schedule { semantics: PROGRESS warmup_epochs: 0 warmup_start_lr: 0 per_step: false\n"
            "  cosine { min_lr: 0 cooldown_epochs: 0 } }\n"
            "augmentation { pad_crop { padding: 0 } horizontal_flip: false no_color {} no_erasing {} }\nnone {} shuffle {} no_ema {} fixed_augmentation {} standard {}\n")
            .ok());
  CHECK(WriteFileAtomically(
            f.top,
            "label: \"r\" family: \"CNN\" replica: 0 init_weights: \"\" paper_row: \"\" no_distillation {}\n"
            "model { num_classes: 3 in_channels: 1 image_size: 8\n"
            "  normalization { mean: 0.2 std: 0.3 }\n"
            "  resnet { block: BASIC stage_depths: [1] base_width: 4 stem: SMALL activation: RELU\n"
            "           batch_norm {} } }\n"
            "training { include: \"" + f.recipe + "\" }\n")
            .ok());
  return f;
}

TEST(LoadExperimentConfig, ComposesAndRequiresEveryField) {
  const Fixture f = WriteConfigs("0.1");
  proto::ModelRun run;
  auto origins = LoadExperimentConfig(f.top, &run);
  ASSERT_THAT(origins, IsOk());
  EXPECT_EQ(run.training().epochs(), 2);
  EXPECT_EQ(origins->Find("training.optimizer.peak_lr"), f.recipe + ":7");
  CHECK(WriteFileAtomically(f.top + ".partial", "label: \"r\"\n").ok());
  EXPECT_THAT(LoadExperimentConfig(f.top + ".partial", &run),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("missing required fields")));
}

TEST(ValidateModelRuns, AnInvalidIncludedValueNamesTheIncludedFileAndLine) {
  const Fixture f = WriteConfigs("-1");
  google::protobuf::RepeatedPtrField<proto::ModelRun> runs;
  auto origins = LoadExperimentConfig(f.top, runs.Add());
  ASSERT_THAT(origins, IsOk());
  ConfigOrigins rows;  // the row sits at models[0] of an experiment config
  for (const auto& [path, entry] : origins->entries()) rows.entries()["models[0]." + path] = entry;
  proto::DatasetConfig data;
  data.set_subset_size(96);
  EXPECT_THAT(ValidateModelRuns(runs, "models", data, f.top, rows),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(f.recipe + ":7: models[0].training.optimizer.peak_lr: ")));
}

TEST(ParseDevice, SyntaxAndAvailability) {
  EXPECT_THAT(ParseDevice("cpu", true), IsOk());
  EXPECT_THAT(ParseDevice("cuda:0", false), IsOk());
  EXPECT_THAT(ParseDevice("tpu", false),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("runtime.device")));
}

}  // namespace
}  // namespace robustness
