// Runs the experiment's real code path (RunImageNetC, as the binary) on the tiny config.
#include <filesystem>
#include <string>

#include "experiments/table1_imagenet_c/table1_imagenet_c.h"
#include "gtest/gtest.h"
#include "robustness/base/atomic_file.h"
#include "robustness/base/status_matchers.h"

namespace robustness {
namespace {

constexpr char kTiny[] = "experiments/table1_imagenet_c/configs/tiny.pbtxt";

TEST(Table1ImageNetC, TinyRunWritesEveryArtefactAndRepeatsItsNumbers) {
  if (!std::filesystem::exists("/usr/share/gimp/2.0/patterns/ice2.pat")) {
    GTEST_SKIP() << "gimp-data-extras not installed (tools/setup.sh installs it)";
  }
  const std::string out = testing::TempDir() + "/c1", out2 = testing::TempDir() + "/c2";
  HarnessOptions options;
  options.store_root = testing::TempDir() + "/store";
  auto first = RunImageNetC(kTiny, out, options);
  ASSERT_THAT(first.status(), IsOk());
  ASSERT_EQ(first->corruptions_size(), 2);
  for (const char* file : {"resolved_config.pbtxt", "provenance.pbtxt", "results.json",
                           "results.md", "imagenet_c_heatmap_0.svg", "imagenet_c_heatmap_1.svg"}) {
    EXPECT_TRUE(std::filesystem::exists(out + "/" + file)) << file;
  }
  const auto& cnn = first->corruptions(0);
  ASSERT_EQ(cnn.rows_size(), 5);
  EXPECT_EQ(cnn.rows(0).error_size(), 3);
  EXPECT_NEAR(cnn.normalized_mce(), 100.0, 1e-9) << "the baseline row normalises to 100";
  // Corruption costs accuracy: severity 5 of gaussian noise errs at least as often as clean.
  EXPECT_GE(cnn.rows(0).error(2), cnn.clean_error());
  const std::string md = *ReadFileToString(out + "/results.md");
  EXPECT_NE(md.find("The paper's OOD claim on this run"), std::string::npos);
  EXPECT_NE(md.find("57.9"), std::string::npos);
  // Second run: the store has both models; the numbers are the same.
  auto second = RunImageNetC(kTiny, out2, options);
  ASSERT_THAT(second.status(), IsOk());
  EXPECT_TRUE(second->models(0).reused());
  for (int m = 0; m < 2; ++m) {
    for (int r = 0; r < 5; ++r) {
      for (int s = 0; s < 3; ++s) {
        EXPECT_EQ(first->corruptions(m).rows(r).error(s), second->corruptions(m).rows(r).error(s));
      }
    }
  }
}

TEST(Table1ImageNetC, MissingConfigIsAnError) {
  EXPECT_FALSE(RunImageNetC("/nonexistent.pbtxt", testing::TempDir() + "/x").ok());
}

}  // namespace
}  // namespace robustness
