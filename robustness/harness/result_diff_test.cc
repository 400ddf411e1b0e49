#include "robustness/harness/result_diff.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace robustness {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr char kGolden[] =
    R"({"models": [{"clean_accuracy": 50.78125, "train_loss": 1.25, "seconds": 3.0,
        "weights_sha256": "ab", "label": "r"}]})";

TEST(DiffResults, IdenticalButForTimingsIsEqual) {
  auto d = DiffResults(R"({"models": [{"clean_accuracy": 50.78125, "train_loss": 1.25,
      "seconds": 9.5, "weights_sha256": "ab", "label": "r"}]})",
                       kGolden, ResultTolerance::Exact());
  ASSERT_TRUE(d.ok());
  EXPECT_THAT(*d, IsEmpty());
}

TEST(DiffResults, ExactModeReportsTheLastBit) {
  auto d = DiffResults(R"({"models": [{"clean_accuracy": 50.78125, "train_loss": 1.2500000000000002,
      "seconds": 3.0, "weights_sha256": "cd", "label": "r"}]})",
                       kGolden, ResultTolerance::Exact());
  ASSERT_TRUE(d.ok());
  EXPECT_THAT(*d, ElementsAre("$.models[0].train_loss: got 1.2500000000000002, golden 1.25",
                              "$.models[0].weights_sha256: got \"cd\", golden \"ab\""));
}

TEST(DiffResults, FallbackToleratesKernelDriftButNotMore) {
  const std::string near = R"({"models": [{"clean_accuracy": 53.125, "train_loss": 1.26,
      "seconds": 3.0, "weights_sha256": "cd", "label": "r"}]})";
  auto ok = DiffResults(near, kGolden, ResultTolerance::Fallback());
  ASSERT_TRUE(ok.ok());
  EXPECT_THAT(*ok, IsEmpty());
  auto far = DiffResults(R"({"models": [{"clean_accuracy": 70.0, "train_loss": 1.25,
      "seconds": 3.0, "weights_sha256": "ab", "label": "other"}]})",
                         kGolden, ResultTolerance::Fallback());
  ASSERT_TRUE(far.ok());
  EXPECT_THAT(*far, ElementsAre("$.models[0].clean_accuracy: got 70, golden 50.78125",
                                "$.models[0].label: got \"other\", golden \"r\""));
}

TEST(DiffResults, MissingExtraAndResizedAreDifferences) {
  auto d = DiffResults(R"({"models": [], "extra": 1})", kGolden, ResultTolerance::Exact());
  ASSERT_TRUE(d.ok());
  EXPECT_THAT(*d, ElementsAre("$.models: 0 items, golden 1",
                              "$.extra: not in the golden file (got 1)"));
  EXPECT_FALSE(DiffResults("not json", kGolden, ResultTolerance::Exact()).ok());
}

}  // namespace
}  // namespace robustness
