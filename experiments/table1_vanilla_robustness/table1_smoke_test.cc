// Runs the experiment's real code path (the same RunTable1 the binary calls) on the tiny config.
#include <filesystem>
#include <string>

#include "experiments/table1_vanilla_robustness/table1_result.pb.h"
#include "experiments/table1_vanilla_robustness/table1_vanilla_robustness.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/atomic_file.h"
#include "robustness/base/status_matchers.h"

namespace robustness {
namespace {

using ::testing::HasSubstr;

constexpr char kTiny[] = "experiments/table1_vanilla_robustness/configs/tiny.pbtxt";

std::string Dir(const std::string& name) { return ::testing::TempDir() + "/" + name; }

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
      new absl::StatusOr<experiments::Table1Result>(RunTable1(kTiny, Dir("full")));
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
    EXPECT_GT(m.clean_accuracy(), 30.0) << m.label();  // 10 classes: chance is 10%
    double previous = m.clean_accuracy();
    for (const auto& r : m.robust()) {  // radii ascend: accuracy never rises with epsilon
      EXPECT_LE(r.robust_accuracy(), previous) << m.label() << " eps " << r.label();
      for (const auto& a : r.per_attack()) EXPECT_GE(a.accuracy(), r.robust_accuracy());
      previous = r.robust_accuracy();
    }
  }
  auto markdown = ReadFileToString(Dir("full") + "/results.md");
  EXPECT_THAT(*markdown, HasSubstr("| Model | Family | Params | Clean | eps 0.001 | eps 4/255 |"));
}

TEST(Table1Smoke, KilledRunResumesToTheSameNumbers) {
  const auto& straight = StraightRun();
  ASSERT_THAT(straight, IsOk());
  Table1Options kill_after_one_epoch;
  kill_after_one_epoch.stop_after_epochs = 1;
  EXPECT_THAT(RunTable1(kTiny, Dir("resumed"), kill_after_one_epoch),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("stopped after epoch 1")));
  EXPECT_FALSE(std::filesystem::exists(Dir("resumed") + "/results.json"));
  auto resumed = RunTable1(kTiny, Dir("resumed"));
  ASSERT_THAT(resumed, IsOk());
  ExpectSameNumbers(*straight, *resumed);
}

TEST(Table1Smoke, BadConfigsFailWithFileLineOrField) {
  const std::string typo = Dir("typo.pbtxt");
  ASSERT_THAT(WriteFileAtomically(typo, "name: \"x\"\nrun_time { seed: 1 }\n"), IsOk());
  EXPECT_THAT(RunTable1(typo, Dir("typo_out")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(typo + ":2:")));
  const std::string partial = Dir("partial.pbtxt");
  ASSERT_THAT(WriteFileAtomically(partial, "name: \"x\"\nruntime { seed: 1 }\n"), IsOk());
  EXPECT_THAT(RunTable1(partial, Dir("partial_out")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("missing required fields (every hyperparameter must be set): "
                                 "runtime.num_threads")));
  EXPECT_FALSE(std::filesystem::exists(Dir("partial_out")));
}

TEST(Table1Smoke, OutOfRangeValuesNameTheField) {
  auto text = ReadFileToString(kTiny);
  ASSERT_THAT(text, IsOk());
  const std::string path = Dir("bad_eps.pbtxt");
  std::string bad = *text;
  bad.replace(bad.find("over_255: 16"), 12, "over_255: 300");
  ASSERT_THAT(WriteFileAtomically(path, bad), IsOk());
  EXPECT_THAT(RunTable1(path, Dir("bad_eps_out")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("evaluation.radii[2]")));
  bad = *text;
  bad.replace(bad.find("peak_lr: 0.1"), 12, "peak_lr: -1");
  ASSERT_THAT(WriteFileAtomically(path, bad), IsOk());
  EXPECT_THAT(RunTable1(path, Dir("bad_lr_out")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("training.optimizer.peak_lr: must be in (0, 10], got -1")));
}

TEST(Table1Smoke, ModelInputThatDoesNotMatchTheDataIsAnError) {
  auto text = ReadFileToString(kTiny);
  std::string bad = *text;
  const std::string from = "num_classes: 10 in_channels: 1 image_size: 28";
  bad.replace(bad.find(from), from.size(), "num_classes: 10 in_channels: 1 image_size: 32");
  const std::string path = Dir("bad_size.pbtxt");
  ASSERT_THAT(WriteFileAtomically(path, bad), IsOk());
  EXPECT_THAT(RunTable1(path, Dir("bad_size_out")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("models[0].model expects [in_channels=1, image_size=32, "
                                 "image_size=32] but the test images after eval_transform are "
                                 "[1, 28, 28]")));
}

TEST(Table1Smoke, MissingDataSetHintsAtSetup) {
  auto text = ReadFileToString(kTiny);
  std::string bad = *text;
  const std::string from = "/usr/share/datasets/fashion-mnist/t10k-images";
  bad.replace(bad.find(from), from.size(), "/usr/share/datasets/no-such-set/t10k-images");
  const std::string path = Dir("no_data.pbtxt");
  ASSERT_THAT(WriteFileAtomically(path, bad), IsOk());
  EXPECT_THAT(RunTable1(path, Dir("no_data_out")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("tools/setup.sh")));
}

TEST(Table1Smoke, UnwritableOutputFolderIsAnError) {
  const std::string file = Dir("a_file");
  ASSERT_THAT(WriteFileAtomically(file, "x"), IsOk());
  EXPECT_THAT(RunTable1(kTiny, file + "/out"),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr(file + "/out")));
}

}  // namespace
}  // namespace robustness
