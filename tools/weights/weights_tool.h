// The commands of `bazel run //tools/weights -- <command> ...` (weights_main.cc is the thin main):
// look into PyTorch weight files, check them against a model config, and take models trained
// here out to Python. The library underneath: robustness/weights.
//
//   inspect --weights=x.pth [--key=K]       keys, dtypes, shapes and the unwrapping done
//   check   --model_config=m.pbtxt --weights=x.pth [--key=K]   (or --checkpoint=ckpt.pt)
//                                           whether the weights load strictly into the model of
//                                           m.pbtxt; otherwise every missing / unexpected /
//                                           wrong-shaped key and any normalisation difference
//   export  --model_config=m.pbtxt --checkpoint=ckpt.pt --output=model.pth
//                                           the model of a training checkpoint
//                                           (robustness/training/checkpoint.h) as a torch.save-
//                                           style state dict for Python
//
// Each Run* function prints its report to `out` and returns OK, or the error to print; a check
// that finds mismatches prints the full list and returns InvalidArgument.
#ifndef TOOLS_WEIGHTS_WEIGHTS_TOOL_H_
#define TOOLS_WEIGHTS_WEIGHTS_TOOL_H_

#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "robustness/models/image_classifier.h"
#include "robustness/proto/model.pb.h"

namespace robustness {
namespace tools {

// `path` as the user meant it: under `bazel run`, relative paths are taken from the shell's
// folder (BUILD_WORKING_DIRECTORY), not from the runfiles tree.
std::string ResolveUserPath(const std::string& path);

// Reads a text-format ModelConfig strictly (unknown fields: path:line:col; every field must be
// set, robustness/config/require_fields.h) and builds the model (model_factory.h, which validates
// ranges). Errors name the file.
absl::StatusOr<ImageClassifier> BuildModelFromConfigFile(const std::string& path,
                                                         proto::ModelConfig* config = nullptr);

absl::Status RunInspect(const std::string& weights, const std::string& key, std::ostream& out);

// Exactly one of `weights` (a torch.save file, `key` as in ReadStateDictFile) and `checkpoint` (a
// training checkpoint) is non-empty.
absl::Status RunCheck(const std::string& model_config, const std::string& weights,
                      const std::string& checkpoint, const std::string& key, std::ostream& out);

absl::Status RunExport(const std::string& model_config, const std::string& checkpoint,
                       const std::string& output, std::ostream& out);

}  // namespace tools
}  // namespace robustness

#endif  // TOOLS_WEIGHTS_WEIGHTS_TOOL_H_
