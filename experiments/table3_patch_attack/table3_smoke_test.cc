// Runs the experiment's real code path (RunPatchAttackTable, as the binary) on the tiny config:
// the checks every TPA table shares (experiments/patch_attack/tiny_run_checks.h), then this
// table's own results.md.
#include <string>

#include "experiments/patch_attack/patch_attack_table.h"
#include "experiments/patch_attack/tiny_run_checks.h"
#include "experiments/table3_patch_attack/table3_patch_attack.h"
#include "gtest/gtest.h"

namespace robustness {
namespace {

TEST(Table3PatchAttack, TinyRunWritesEveryArtefactAndRepeatsItsNumbers) {
  experiments::PatchAttackTableResult result;
  std::string md;
  CheckTinyRunTwice("table3_patch_attack", "experiments/table3_patch_attack/configs/tiny.pbtxt", 2,
                    RenderTable3Markdown, &result, &md);
  ASSERT_FALSE(md.empty());
  EXPECT_NE(md.find("The paper's claim on this run"), std::string::npos);
  EXPECT_NE(md.find("76.9"), std::string::npos);  // the paper's clean column beside ours
}

TEST(Table3PatchAttack, MissingConfigIsAnError) {
  EXPECT_FALSE(RunPatchAttackTable("table3_patch_attack", "/nonexistent.pbtxt",
                                   testing::TempDir() + "/x", {}, RenderTable3Markdown)
                   .ok());
}

}  // namespace
}  // namespace robustness
