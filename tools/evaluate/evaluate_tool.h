// tools/evaluate as a library: the RobustBench-style entry point for a user's own model
// (PAPER.md 3.7-3.8). A model config plus weights (a training checkpoint of this project or a
// torchvision / timm / DeiT torch.save file), a data config, and a RobustnessEvalConfig (radii,
// attacks: FGSM, PGD, APGD-CE / APGD-T / APGD-DLR, Square) or an AutoAttack run (stages in
// sequence). Writes results.json and results.md; in AutoAttack mode also per_image.csv.
#ifndef TOOLS_EVALUATE_EVALUATE_TOOL_H_
#define TOOLS_EVALUATE_EVALUATE_TOOL_H_

#include <string>

#include "absl/status/statusor.h"
#include "tools/evaluate/evaluate_config.pb.h"

namespace robustness {

struct EvaluateToolOptions {
  std::string config_path;   // EvaluateConfig text proto (composed).
  std::string set_fragment;  // EvaluateConfig text overriding the file's fields; may be empty.
  std::string output_dir;    // Created if missing; results.json and results.md go there.
  // auto_attack mode: also adversarial.pth (torch.save file: labels, clean_prediction, and per
  // radius "x_adv eps=<label>", "fooled_by eps=<label>").
  bool save_adversarial = false;
};

// Loads, validates (every field set; errors name file, line, field and value), loads the weights
// strictly (a mismatch lists every missing, unexpected and wrong-shaped key), evaluates, writes
// the results atomically, and returns them.
absl::StatusOr<tools::EvaluateResult> RunEvaluateTool(const EvaluateToolOptions& options);

// results.md of a result.
std::string RenderEvaluateMarkdown(const tools::EvaluateResult& result);

}  // namespace robustness

#endif  // TOOLS_EVALUATE_EVALUATE_TOOL_H_
