// What Tables 3 and 4 (PAPER.md section 4.2; claims 4 of section 6) share: model rows from the
// store, one texture dictionary for all of them (built, or resumed, on first use), and each row
// evaluated under the Texture Patch Attack (robustness/evaluation/patch_attack_eval.h). The two
// binaries differ only in their configs and in the claims their results.md checks.
//
// Output folder (atomically): resolved_config.pbtxt, provenance.pbtxt (first); results.json,
// results.md (our numbers beside the paper's, the claims checked), tpa_accuracy_vs_patches.svg,
// and examples_<row>_<j>.png (clean | attacked, upscaled).
#ifndef EXPERIMENTS_PATCH_ATTACK_PATCH_ATTACK_TABLE_H_
#define EXPERIMENTS_PATCH_ATTACK_PATCH_ATTACK_TABLE_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "experiments/patch_attack/patch_attack_config.pb.h"
#include "experiments/patch_attack/patch_attack_result.pb.h"
#include "robustness/config/composed_config.h"
#include "robustness/harness/experiment.h"
#include "robustness/textures/texture_dictionary.h"

namespace robustness {

// Every block in range; no tensor work. Errors name file:line where known.
absl::Status ValidatePatchAttackTableConfig(const experiments::PatchAttackTableConfig& config,
                                            const std::string& source,
                                            const ConfigOrigins& origins);

// The dictionary's folder under the store: textures/<config name>-<16 hex digits of the SHA-256
// of the build config without its feature network, and the feature network's weights SHA-256>.
std::string TextureDictionaryDir(const std::string& store_root, const std::string& name,
                                 const proto::TextureDictionaryConfig& config,
                                 const std::string& feature_weights_sha256);

// The config's dictionary: its feature network obtained (trained by the store when `stored`), the
// dictionary built or resumed in TextureDictionaryDir(store root, config name, ...) unless
// complete, then opened for the rows' data. Fills *record (not null). tools/texture_dictionary
// and both tables call it.
absl::StatusOr<TextureDictionary> ObtainTextureDictionary(
    ExperimentRun& run, const experiments::PatchAttackTableConfig& config,
    std::shared_ptr<const Dataset> train, const Dataset& test,
    const ImageTransform& eval_transform, experiments::DictionaryRecord* record);

// Runs the table. `render` turns the result into results.md (the table's own claims).
absl::StatusOr<experiments::PatchAttackTableResult> RunPatchAttackTable(
    const std::string& binary, const std::string& config_path, const std::string& output_dir,
    const HarnessOptions& options,
    const std::function<std::string(const experiments::PatchAttackTableResult&)>& render);

// The shared part of both tables' results.md: settings, the table (ours beside the paper's),
// dictionary facts, example images.
std::string RenderPatchAttackRows(const experiments::PatchAttackTableResult& result,
                                  const std::string& paper_table);

// The verdict on "accuracy a (percent) above accuracy b", both on n images: "holds" when the
// gap exceeds two standard errors of the difference of two binomial proportions, "does not hold"
// when it is below minus two, else "not resolved on n images"; with the gap and the 2-SE band.
std::string GapVerdict(double a, double b, int64_t n);

}  // namespace robustness

#endif  // EXPERIMENTS_PATCH_ATTACK_PATCH_ATTACK_TABLE_H_
