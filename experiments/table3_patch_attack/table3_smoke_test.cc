// Runs the experiment's real code path (RunPatchAttackTable, as the binary) on the tiny config.
#include <filesystem>
#include <string>

#include "experiments/patch_attack/patch_attack_table.h"
#include "experiments/table3_patch_attack/table3_patch_attack.h"
#include "gtest/gtest.h"
#include "robustness/base/atomic_file.h"
#include "robustness/base/status_matchers.h"

namespace robustness {
namespace {

constexpr char kTiny[] = "experiments/table3_patch_attack/configs/tiny.pbtxt";

TEST(Table3PatchAttack, TinyRunWritesEveryArtefactAndRepeatsItsNumbers) {
  const std::string out = testing::TempDir() + "/t1", out2 = testing::TempDir() + "/t2";
  HarnessOptions options;
  options.store_root = testing::TempDir() + "/store";
  auto first = RunPatchAttackTable("table3_patch_attack", kTiny, out, options,
                                   RenderTable3Markdown);
  ASSERT_THAT(first.status(), IsOk());
  ASSERT_EQ(first->rows_size(), 2);
  for (const char* file : {"resolved_config.pbtxt", "provenance.pbtxt", "results.json",
                           "results.md", "tpa_accuracy_vs_patches.svg"}) {
    EXPECT_TRUE(std::filesystem::exists(out + "/" + file)) << file;
  }
  for (const auto& row : first->rows()) {
    EXPECT_LE(row.tpa_accuracy(), row.clean_accuracy());
    EXPECT_LE(row.max_area(), first->settings().area_budget() + 1e-9);
    EXPECT_LE(row.mean_queries_all(), first->settings().query_budget());
    ASSERT_EQ(row.accuracy_after_size(), 2);
    EXPECT_GE(row.accuracy_after(0), row.accuracy_after(1));
    for (const auto& f : row.example_files()) {
      EXPECT_TRUE(std::filesystem::exists(out + "/" + f)) << f;
    }
  }
  EXPECT_EQ(first->settings().area_mode(), "TOTAL");
  EXPECT_TRUE(std::filesystem::exists(first->dictionary().dir() + "/manifest.pbtxt"));
  EXPECT_GT(first->dictionary().build_seconds(), 0);
  EXPECT_FALSE(first->dictionary().reused());
  const std::string md = *ReadFileToString(out + "/results.md");
  EXPECT_NE(md.find("The paper's claim on this run"), std::string::npos);
  EXPECT_NE(md.find("76.9"), std::string::npos);
  // Second run: the store has the models and the dictionary; the numbers are the same.
  auto second = RunPatchAttackTable("table3_patch_attack", kTiny, out2, options,
                                    RenderTable3Markdown);
  ASSERT_THAT(second.status(), IsOk());
  EXPECT_TRUE(second->models(0).reused());
  EXPECT_EQ(second->dictionary().dir(), first->dictionary().dir());
  EXPECT_TRUE(second->dictionary().reused());
  for (int r = 0; r < 2; ++r) {
    EXPECT_EQ(first->rows(r).tpa_accuracy(), second->rows(r).tpa_accuracy());
    EXPECT_EQ(first->rows(r).mean_queries_all(), second->rows(r).mean_queries_all());
    EXPECT_EQ(first->rows(r).mean_area(), second->rows(r).mean_area());
  }
}

TEST(Table3PatchAttack, MissingConfigIsAnError) {
  EXPECT_FALSE(RunPatchAttackTable("table3_patch_attack", "/nonexistent.pbtxt",
                                   testing::TempDir() + "/x", {}, RenderTable3Markdown)
                   .ok());
}

}  // namespace
}  // namespace robustness
