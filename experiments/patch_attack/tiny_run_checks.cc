#include "experiments/patch_attack/tiny_run_checks.h"

#include <filesystem>

#include "experiments/patch_attack/patch_attack_table.h"
#include "gtest/gtest.h"
#include "robustness/base/atomic_file.h"
#include "robustness/base/status_matchers.h"

namespace robustness {

void CheckTinyRunTwice(
    const std::string& binary, const std::string& config_path, int rows,
    const std::function<std::string(const experiments::PatchAttackTableResult&)>& render,
    experiments::PatchAttackTableResult* first_out, std::string* first_markdown) {
  const std::string out = testing::TempDir() + "/t1", out2 = testing::TempDir() + "/t2";
  HarnessOptions options;
  options.store_root = testing::TempDir() + "/store";
  auto first = RunPatchAttackTable(binary, config_path, out, options, render);
  ASSERT_THAT(first.status(), IsOk());
  ASSERT_EQ(first->rows_size(), rows);
  for (const char* file : {"resolved_config.pbtxt", "provenance.pbtxt", "results.json",
                           "results.md", "tpa_accuracy_vs_patches.svg"}) {
    EXPECT_TRUE(std::filesystem::exists(out + "/" + file)) << file;
  }
  const int patches = first->settings().num_patches();
  for (const auto& row : first->rows()) {
    EXPECT_LE(row.tpa_accuracy(), row.clean_accuracy());
    EXPECT_LE(row.max_area(), first->settings().area_budget() + 1e-9);
    EXPECT_LE(row.mean_queries_all(), first->settings().query_budget());
    ASSERT_EQ(row.accuracy_after_size(), patches);
    for (int k = 1; k < patches; ++k) EXPECT_GE(row.accuracy_after(k - 1), row.accuracy_after(k));
    for (const auto& f : row.example_files()) {
      EXPECT_TRUE(std::filesystem::exists(out + "/" + f)) << f;
    }
  }
  EXPECT_EQ(first->settings().area_mode(), "TOTAL");
  EXPECT_TRUE(std::filesystem::exists(first->dictionary().dir() + "/manifest.pbtxt"));
  EXPECT_GT(first->dictionary().build_seconds(), 0);
  EXPECT_FALSE(first->dictionary().reused());
  absl::StatusOr<std::string> md = ReadFileToString(out + "/results.md");
  ASSERT_THAT(md.status(), IsOk());
  // Second run: the store has the models and the dictionary; the numbers are the same.
  auto second = RunPatchAttackTable(binary, config_path, out2, options, render);
  ASSERT_THAT(second.status(), IsOk());
  EXPECT_TRUE(second->models(0).reused());
  EXPECT_EQ(second->dictionary().dir(), first->dictionary().dir());
  EXPECT_TRUE(second->dictionary().reused());
  for (int r = 0; r < rows; ++r) {
    EXPECT_EQ(first->rows(r).tpa_accuracy(), second->rows(r).tpa_accuracy());
    EXPECT_EQ(first->rows(r).mean_queries_all(), second->rows(r).mean_queries_all());
    EXPECT_EQ(first->rows(r).mean_area(), second->rows(r).mean_area());
  }
  *first_out = *first;
  *first_markdown = *md;
}

}  // namespace robustness
