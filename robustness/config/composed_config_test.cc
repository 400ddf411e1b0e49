#include "robustness/config/composed_config.h"

#include <string>

#include "glog/logging.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/atomic_file.h"
#include "robustness/base/status_matchers.h"
#include "robustness/proto/model_run.pb.h"
#include "robustness/proto/training.pb.h"

namespace robustness {
namespace {

using ::testing::HasSubstr;

std::string Dir() {
  std::string tmp = ::testing::TempDir();
  while (!tmp.empty() && tmp.back() == '/') tmp.pop_back();
  return tmp + "/composed";
}

std::string Write(const std::string& name, const std::string& text) {
  const std::string path = Dir() + "/" + name;
  CHECK(EnsureWritableDirectory(Dir() + "/recipes").ok());
  CHECK(WriteFileAtomically(path, text).ok());
  return path;
}

constexpr char kRecipe[] =
    "epochs: 3\nbatch_size: 64\nlabel_smoothing: 0\nimages_per_epoch: 0\n"
    "optimizer { peak_lr: 0.1 weight_decay: 1e-4 no_decay_on_1d_params: false\n"
    "            sgd { momentum: 0.9 nesterov: false } }\n";

TEST(ComposedConfig, IncludeThenOverrideMergesSubMessages) {
  Write("recipes/cnn.pbtxt", kRecipe);
  const std::string top = Write(
      "run.pbtxt", "label: \"r\"\ntraining {\n  include: \"recipes/cnn.pbtxt\"\n  epochs: 5\n"
                   "  optimizer { peak_lr: 0.2 }\n}\n");
  proto::ModelRun run;
  ConfigOrigins origins;
  ASSERT_THAT(ReadComposedConfig(top, &run, &origins), IsOk());
  EXPECT_EQ(run.training().epochs(), 5);
  EXPECT_EQ(run.training().batch_size(), 64);
  EXPECT_DOUBLE_EQ(run.training().optimizer().peak_lr(), 0.2);
  EXPECT_DOUBLE_EQ(run.training().optimizer().weight_decay(), 1e-4);
  EXPECT_DOUBLE_EQ(run.training().optimizer().sgd().momentum(), 0.9);
  EXPECT_TRUE(run.training().include().empty());
  EXPECT_EQ(origins.Find("training.epochs"), top + ":4");
  EXPECT_EQ(origins.Find("training.optimizer.peak_lr"), top + ":5");
  EXPECT_EQ(origins.Find("training.batch_size"), Dir() + "/recipes/cnn.pbtxt:2");
  EXPECT_EQ(origins.Find("training.optimizer.sgd.momentum"), Dir() + "/recipes/cnn.pbtxt:6");
}

TEST(ComposedConfig, OneofCaseAndRepeatedFieldsReplace) {
  Write("recipes/sched.pbtxt",
        "epochs: 3\noptimizer { sgd { momentum: 0.9 nesterov: false } }\n"
        "schedule { step { milestones: [1, 2] gamma: 0.1 } }\n");
  const std::string top = Write(
      "sched_top.pbtxt", "include: \"recipes/sched.pbtxt\"\n"
                         "optimizer { adamw { beta1: 0.9 } }\nschedule { step { milestones: [3] } }\n");
  proto::TrainingConfig t;
  ASSERT_THAT(ReadComposedConfig(top, &t), IsOk());
  EXPECT_TRUE(t.optimizer().has_adamw());
  EXPECT_FALSE(t.optimizer().has_sgd());
  ASSERT_EQ(t.schedule().step().milestones_size(), 1);
  EXPECT_EQ(t.schedule().step().milestones(0), 3);
  EXPECT_DOUBLE_EQ(t.schedule().step().gamma(), 0.1);
}

TEST(ComposedConfig, NestedIncludesResolveInnermostFirst) {
  Write("recipes/base.pbtxt", kRecipe);
  Write("recipes/mid.pbtxt", "include: \"./base.pbtxt\"\nepochs: 7\n");
  const std::string top = Write("nested.pbtxt", "training { include: \"recipes/mid.pbtxt\" }\n");
  proto::ModelRun run;
  ASSERT_THAT(ReadComposedConfig(top, &run), IsOk());
  EXPECT_EQ(run.training().epochs(), 7);
  EXPECT_EQ(run.training().batch_size(), 64);
}

TEST(ComposedConfig, MissingIncludeNamesFileLineAndPlacesTried) {
  const std::string top = Write("missing.pbtxt", "label: \"x\"\ntraining { include: \"nope.pbtxt\" }\n");
  proto::ModelRun run;
  EXPECT_THAT(ReadComposedConfig(top, &run),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr(top + ":2: include \"nope.pbtxt\" not found (tried: ")));
}

TEST(ComposedConfig, CircularIncludeIsAnError) {
  Write("recipes/a.pbtxt", "include: \"./b.pbtxt\"\n");
  Write("recipes/b.pbtxt", "include: \"./a.pbtxt\"\n");
  proto::TrainingConfig t;
  EXPECT_THAT(ReadComposedConfig(Dir() + "/recipes/a.pbtxt", &t),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("circular include: ")));
}

TEST(ComposedConfig, OverrideNamingNoFieldIsAParseErrorWithLine) {
  Write("recipes/ok.pbtxt", kRecipe);
  const std::string top =
      Write("typo.pbtxt", "training {\n  include: \"recipes/ok.pbtxt\"\n  epochz: 5\n}\n");
  proto::ModelRun run;
  EXPECT_THAT(ReadComposedConfig(top, &run),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(top + ":3:9: Message type \"robustness.proto.TrainingConfig\" has "
                                       "no field named \"epochz\"")));
}

TEST(ComposedConfig, ErrorInsideIncludedFileNamesThatFile) {
  const std::string bad = Write("recipes/bad.pbtxt", "epochs: 3\nbatch_sise: 4\n");
  const std::string top = Write("uses_bad.pbtxt", "training { include: \"recipes/bad.pbtxt\" }\n");
  proto::ModelRun run;
  EXPECT_THAT(ReadComposedConfig(top, &run),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(bad + ":2:11: ")));
}

TEST(ConfigOrigins, AnnotatePointsAtTheFileThatSetTheValue) {
  Write("recipes/lr.pbtxt", kRecipe);
  const std::string top =
      Write("lr_top.pbtxt", "training {\n  include: \"recipes/lr.pbtxt\"\n}\n");
  proto::ModelRun run;
  ConfigOrigins origins;
  ASSERT_THAT(ReadComposedConfig(top, &run, &origins), IsOk());
  absl::Status annotated = origins.Annotate(
      absl::InvalidArgumentError("training.optimizer.peak_lr: must be in (0, 10], got -1"), "");
  EXPECT_EQ(annotated.message(), Dir() + "/recipes/lr.pbtxt:5: training.optimizer.peak_lr: must "
                                         "be in (0, 10], got -1");
  EXPECT_THAT(origins.Annotate(absl::OkStatus(), ""), IsOk());
}

}  // namespace
}  // namespace robustness
