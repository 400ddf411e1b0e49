// Runs the experiment's real code path (RunPatchAttackTable, as the binary) on the tiny config:
// the checks every TPA table shares (experiments/patch_attack/tiny_run_checks.h), then this
// table's own results.md.
#include <string>

#include "experiments/patch_attack/patch_attack_table.h"
#include "experiments/patch_attack/tiny_run_checks.h"
#include "experiments/table4_augmentation_patch_attack/table4_augmentation_patch_attack.h"
#include "gtest/gtest.h"

namespace robustness {
namespace {

TEST(Table4PatchAttack, TinyRunWritesEveryArtefactAndRepeatsItsNumbers) {
  experiments::PatchAttackTableResult result;
  std::string md;
  CheckTinyRunTwice("table4_augmentation_patch_attack",
                    "experiments/table4_augmentation_patch_attack/configs/tiny.pbtxt", 3,
                    RenderTable4Markdown, &result, &md);
  ASSERT_FALSE(md.empty());
  EXPECT_NE(md.find("The paper's claims on this run"), std::string::npos);
  EXPECT_NE(md.find("decides the TPA result"), std::string::npos);
  EXPECT_TRUE(result.rows(1).cutmix() && result.rows(1).rand_augment() &&
              !result.rows(1).mixup());
}

TEST(Table4PatchAttack, MissingConfigIsAnError) {
  EXPECT_FALSE(RunPatchAttackTable("table4_augmentation_patch_attack", "/nonexistent.pbtxt",
                                   testing::TempDir() + "/x", {}, RenderTable4Markdown)
                   .ok());
}

}  // namespace
}  // namespace robustness
