// Runs the experiment's real code path (the same RunTable1 the binary calls) on the tiny config.
#include <algorithm>
#include <filesystem>
#include <string>

#include "experiments/table1_vanilla_robustness/table1_result.pb.h"
#include "experiments/table1_vanilla_robustness/table1_vanilla_robustness.h"
#include "glog/logging.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/atomic_file.h"
#include "robustness/base/status_matchers.h"

namespace robustness {
namespace {

using ::testing::HasSubstr;

constexpr char kTiny[] = "experiments/table1_vanilla_robustness/configs/tiny.pbtxt";

std::string Dir(const std::string& name) { return ::testing::TempDir() + "/" + name; }

HarnessOptions Store(const std::string& name) {
  HarnessOptions options;
  options.store_root = Dir(name);
  return options;
}

// The tiny config with `from` replaced by `to`, written next to the other test files.
std::string EditedTiny(const std::string& file, const std::string& from, const std::string& to) {
  std::string text = *ReadFileToString(kTiny);
  const size_t at = text.find(from);
  CHECK_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
  const std::string path = Dir(file);
  CHECK(WriteFileAtomically(path, text).ok());
  return path;
}

void ExpectSameNumbers(const experiments::Table1Result& a, const experiments::Table1Result& b) {
  ASSERT_EQ(a.models_size(), b.models_size());
  for (int i = 0; i < a.models_size(); ++i) {
    EXPECT_EQ(a.models(i).clean_accuracy(), b.models(i).clean_accuracy());
    ASSERT_EQ(a.models(i).robust_size(), b.models(i).robust_size());
    for (int r = 0; r < a.models(i).robust_size(); ++r) {
      EXPECT_EQ(a.models(i).robust(r).robust_accuracy(), b.models(i).robust(r).robust_accuracy());
    }
    ASSERT_EQ(a.models(i).training_size(), b.models(i).training_size());
    for (int e = 0; e < a.models(i).training_size(); ++e) {
      EXPECT_EQ(a.models(i).training(e).train_loss(), b.models(i).training(e).train_loss());
    }
  }
}

// One uninterrupted run, shared by the tests below (each run trains two models).
const absl::StatusOr<experiments::Table1Result>& StraightRun() {
  static const auto* result =
      new absl::StatusOr<experiments::Table1Result>(
          RunTable1(kTiny, Dir("full"), Store("store_full")));
  return *result;
}

TEST(Table1Smoke, WritesEveryArtefactWithSaneNumbers) {
  const auto& result = StraightRun();
  ASSERT_THAT(result, IsOk());
  for (const char* file : {"resolved_config.pbtxt", "provenance.pbtxt", "results.json",
                           "results.md", "accuracy_vs_epsilon.svg"}) {
    EXPECT_TRUE(std::filesystem::exists(Dir("full") + "/" + file)) << file;
  }
  ASSERT_EQ(result->models_size(), 2);
  for (const auto& m : result->models()) {
    // 10 classes: chance is 10%. The toy transformer under the full DeiT recipe (RandAugment,
    // MixUp, CutMix) reaches ~30% on 2048 images; twice chance proves it learned.
    EXPECT_GT(m.clean_accuracy(), 20.0) << m.label();
    double previous = m.clean_accuracy();
    for (const auto& r : m.robust()) {  // radii ascend: accuracy never rises with epsilon
      EXPECT_LE(r.robust_accuracy(), previous) << m.label() << " eps " << r.label();
      for (const auto& a : r.per_attack()) EXPECT_GE(a.accuracy(), r.robust_accuracy());
      previous = r.robust_accuracy();
    }
  }
  auto markdown = ReadFileToString(Dir("full") + "/results.md");
  EXPECT_THAT(*markdown, HasSubstr("| Model | Family | Params | Clean | eps 0.001 | eps 4/255 |"));
  EXPECT_THAT(*markdown, HasSubstr("## The paper's claim 1 on this run"));
  // The verdict follows the numbers: the tiny models are far from 0% at 4/255.
  EXPECT_THAT(*markdown,
              HasSubstr("* Both collapse at 4/255 (<= 1%; AutoAttack, 8 images): does not hold ("));
  EXPECT_THAT(*markdown, HasSubstr("| Model | Radius | Clean | APGD-CE | APGD-T | FAB-T | Square |"));
  // AutoAttack: every stage present, accuracy never rising along the stages nor above clean.
  for (const auto& m : result->models()) {
    ASSERT_EQ(m.auto_attack_size(), 1) << m.label();
    const auto& aa = m.auto_attack(0);
    EXPECT_EQ(aa.label(), "4/255");
    EXPECT_EQ(aa.version(), "STANDARD");
    EXPECT_EQ(aa.num_images(), 8);
    ASSERT_EQ(aa.stages_size(), 4);
    double previous = aa.clean_accuracy();
    for (const auto& s : aa.stages()) {
      EXPECT_LE(s.robust_accuracy(), previous) << m.label() << " " << s.name();
      previous = s.robust_accuracy();
    }
    EXPECT_DOUBLE_EQ(aa.robust_accuracy(), previous);
    EXPECT_LE(aa.max_perturbation(), 4.0 / 255 + 1e-6);
  }
}

TEST(Table1Smoke, SecondRunTrainsNothingAndPrintsTheSameTable) {
  const auto& first = StraightRun();
  ASSERT_THAT(first, IsOk());
  for (const auto& m : first->models()) EXPECT_FALSE(m.reused()) << m.label();
  auto second = RunTable1(kTiny, Dir("again"), Store("store_full"));
  ASSERT_THAT(second, IsOk());
  for (const auto& m : second->models()) EXPECT_TRUE(m.reused()) << m.label();
  ExpectSameNumbers(*first, *second);
  auto table = [](const std::string& dir) {
    const std::string md = *ReadFileToString(dir + "/results.md");
    return md.substr(0, md.find("## Training"));
  };
  EXPECT_EQ(table(Dir("again")), table(Dir("full")));
}

TEST(Table1Smoke, ChangingOneRowsRecipeRetrainsThatRowOnly) {
  ASSERT_THAT(StraightRun(), IsOk());
  const std::string path = EditedTiny("one_row_changed.pbtxt", "schedule { warmup_epochs: 1 }",
                                      "schedule { warmup_epochs: 0.5 }");
  auto changed = RunTable1(path, Dir("one_row_changed_out"), Store("store_full"));
  ASSERT_THAT(changed, IsOk());
  EXPECT_TRUE(changed->models(0).reused());
  EXPECT_FALSE(changed->models(1).reused());
  EXPECT_EQ(changed->models(0).weights_sha256(), StraightRun()->models(0).weights_sha256());
  EXPECT_NE(changed->models(1).fingerprint(), StraightRun()->models(1).fingerprint());
}

TEST(Table1Smoke, KilledRunResumesToTheSameNumbers) {
  const auto& straight = StraightRun();
  ASSERT_THAT(straight, IsOk());
  HarnessOptions kill_after_one_epoch = Store("store_resumed");
  kill_after_one_epoch.stop_after_epochs = 1;
  EXPECT_THAT(RunTable1(kTiny, Dir("resumed"), kill_after_one_epoch),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("stopped after epoch 1")));
  EXPECT_FALSE(std::filesystem::exists(Dir("resumed") + "/results.json"));
  auto resumed = RunTable1(kTiny, Dir("resumed"), Store("store_resumed"));
  ASSERT_THAT(resumed, IsOk());
  ExpectSameNumbers(*straight, *resumed);
}

TEST(Table1Smoke, BadConfigsFailWithFileLineOrField) {
  const std::string typo = Dir("typo.pbtxt");
  ASSERT_THAT(WriteFileAtomically(typo, "name: \"x\"\nrun_time { seed: 1 }\n"), IsOk());
  EXPECT_THAT(RunTable1(typo, Dir("typo_out"), Store("store_bad")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(typo + ":2:")));
  const std::string partial = Dir("partial.pbtxt");
  ASSERT_THAT(WriteFileAtomically(partial, "name: \"x\"\nruntime { seed: 1 }\n"), IsOk());
  EXPECT_THAT(RunTable1(partial, Dir("partial_out"), Store("store_bad")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("missing required fields (every hyperparameter must be set): "
                                 "runtime.num_threads")));
  EXPECT_FALSE(std::filesystem::exists(Dir("partial_out")));
}

TEST(Table1Smoke, OutOfRangeValuesNameTheFileAndLineThatSetThem) {
  std::string path = EditedTiny("bad_eps.pbtxt", "over_255: 16", "over_255: 300");
  EXPECT_THAT(RunTable1(path, Dir("bad_eps_out"), Store("store_bad")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("evaluation.radii[2]")));
  // An override written in the experiment config: its own file and line.
  path = EditedTiny("bad_lr.pbtxt", "epochs: 3 batch_size: 64 images_per_epoch: 0",
                    "epochs: 3 batch_size: 64 images_per_epoch: 0 optimizer { peak_lr: -1 }");
  EXPECT_THAT(RunTable1(path, Dir("bad_lr_out"), Store("store_bad")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(path + ":32: models[0].training.optimizer.peak_lr: must be in "
                                        "(0, 10], got -1")));
  // A value that comes from an included recipe: the recipe's file and line.
  const std::string recipe = Dir("bad_recipe.pbtxt");
  std::string text = *ReadFileToString("robustness/recipes/fashion_mnist/cnn.pbtxt");
  const size_t at = text.find("weight_decay: 1e-4");
  text.replace(at, 18, "weight_decay: -3");
  const std::string line =
      std::to_string(1 + std::count(text.begin(), text.begin() + at, '\n'));
  ASSERT_THAT(WriteFileAtomically(recipe, text), IsOk());
  path = EditedTiny("bad_include.pbtxt", "\"robustness/recipes/fashion_mnist/cnn.pbtxt\"",
                    "\"" + recipe + "\"");
  EXPECT_THAT(RunTable1(path, Dir("bad_include_out"), Store("store_bad")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(recipe + ":" + line + ": models[0].training.optimizer.weight_decay")));
  EXPECT_FALSE(std::filesystem::exists(Dir("bad_include_out")));
}

TEST(Table1Smoke, MissingIncludeNamesFileAndLine) {
  const std::string path = EditedTiny("missing_include.pbtxt", "fashion_mnist/deit.pbtxt",
                                      "fashion_mnist/no_such_recipe.pbtxt");
  EXPECT_THAT(RunTable1(path, Dir("missing_include_out"), Store("store_bad")),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr(path + ":50: include \"robustness/recipes/fashion_mnist/"
                                        "no_such_recipe.pbtxt\" not found")));
}

TEST(Table1Smoke, ModelInputThatDoesNotMatchTheDataIsAnError) {
  const std::string path =
      EditedTiny("bad_size.pbtxt", "num_classes: 10 in_channels: 1 image_size: 28",
                 "num_classes: 10 in_channels: 1 image_size: 32");
  EXPECT_THAT(RunTable1(path, Dir("bad_size_out"), Store("store_bad")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("models[0].model expects [in_channels=1, image_size=32, "
                                 "image_size=32] but the test images after eval_transform are "
                                 "[1, 28, 28]")));
}

TEST(Table1Smoke, MissingDataSetHintsAtSetup) {
  const std::string path = EditedTiny(
      "no_data.pbtxt", "subset_size: 128",
      "subset_size: 128 idx { images_path: \"/usr/share/datasets/no-such-set/t10k-images\" }");
  EXPECT_THAT(RunTable1(path, Dir("no_data_out"), Store("store_bad")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("tools/setup.sh")));
}

TEST(Table1Smoke, UnwritableOutputFolderIsAnError) {
  const std::string file = Dir("a_file");
  ASSERT_THAT(WriteFileAtomically(file, "x"), IsOk());
  EXPECT_THAT(RunTable1(kTiny, file + "/out", Store("store_bad")),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr(file + "/out")));
  auto no_store = RunTable1(kTiny, Dir("no_store_out"), Store("a_file/store"));
  ASSERT_FALSE(no_store.ok());
  EXPECT_THAT(std::string(no_store.status().message()), HasSubstr("model store root"));
}

}  // namespace
}  // namespace robustness
