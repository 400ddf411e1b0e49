// CI regression of results: the tiny Table 1 config must reproduce the committed golden numbers
// (tests/golden/table1_tiny.json) within the tolerances below. A change that moves the numbers
// fails here, visibly; if the move is intended, regenerate the golden file on purpose with
//   tools/update_golden.sh
// and commit it with the change that explains why.
#include <string>

#include "experiments/table1_vanilla_robustness/table1_result.pb.h"
#include "experiments/table1_vanilla_robustness/table1_vanilla_robustness.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "robustness/base/atomic_file.h"

namespace robustness {
namespace {

// Same machine kind, same packages, same seed: runs are bit-identical, so any drift is a code
// change. The tolerances only absorb floating-point reassociation across CPU models and thread
// schedules (one image of 128 is 0.78 points).
constexpr double kAccuracyTolerancePoints = 1.6;  // two test images
constexpr double kLossRelativeTolerance = 0.02;

TEST(Table1Golden, TinyConfigMatchesGolden) {
  auto golden_text = ReadFileToString("tests/golden/table1_tiny.json");
  ASSERT_TRUE(golden_text.ok()) << golden_text.status();
  experiments::Table1Result golden;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(*golden_text, &golden).ok());

  auto result = RunTable1("experiments/table1_vanilla_robustness/configs/tiny.pbtxt",
                          ::testing::TempDir() + "/golden_run");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->num_train_images(), golden.num_train_images());
  EXPECT_EQ(result->num_test_images(), golden.num_test_images());
  ASSERT_EQ(result->models_size(), golden.models_size());
  for (int i = 0; i < golden.models_size(); ++i) {
    const auto& got = result->models(i);
    const auto& want = golden.models(i);
    SCOPED_TRACE(want.label());
    EXPECT_EQ(got.label(), want.label());
    EXPECT_EQ(got.num_parameters(), want.num_parameters());
    EXPECT_NEAR(got.clean_accuracy(), want.clean_accuracy(), kAccuracyTolerancePoints);
    ASSERT_EQ(got.robust_size(), want.robust_size());
    for (int r = 0; r < want.robust_size(); ++r) {
      SCOPED_TRACE(want.robust(r).label());
      EXPECT_NEAR(got.robust(r).robust_accuracy(), want.robust(r).robust_accuracy(),
                  kAccuracyTolerancePoints);
    }
    ASSERT_EQ(got.training_size(), want.training_size());
    const double want_loss = want.training(want.training_size() - 1).train_loss();
    EXPECT_NEAR(got.training(got.training_size() - 1).train_loss(), want_loss,
                kLossRelativeTolerance * want_loss);
  }
}

}  // namespace
}  // namespace robustness
