// The module side of weight interop: a torch::nn::Module's parameters and buffers under their
// PyTorch names, strict loading of a StateDict into a module, and file-level import / export.
//
// The zoo's models use torchvision / timm names (robustness/models/resnet.h, deit.h), so a
// torchvision or timm state dict maps one to one. The one difference: our models hold the input
// normalisation of their config as buffers "normalize.mean" / "normalize.std" (normalize.h),
// which torchvision / timm files never have. Hence:
//   * export leaves them out (Python models normalise outside; see tools/weights/README.md);
//   * import accepts files without them (the model keeps its config's values), and when a file
//     does have them (e.g. written by another tool of ours), they must equal the model's:
//     weights trained under one normalisation are wrong under another.
// BatchNorm's num_batches_tracked buffers are int64, as in PyTorch, and are exported as such.
#ifndef ROBUSTNESS_WEIGHTS_MODULE_STATE_DICT_H_
#define ROBUSTNESS_WEIGHTS_MODULE_STATE_DICT_H_

#include <cstddef>
#include <string>
#include <vector>

#include <torch/nn/module.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "robustness/weights/state_dict_io.h"

namespace robustness {

// The module's parameters and buffers in PyTorch's state_dict() order (module by module, depth
// first in registration order; each module's parameters, then its buffers), holding the module's
// own tensors (not copies). With include_normalization false (the default), the buffers of
// Normalize submodules are left out.
StateDict ModuleStateDict(const torch::nn::Module& module, bool include_normalization = false);

// Names of the buffers of every Normalize submodule, e.g. {"normalize.mean", "normalize.std"}.
std::vector<std::string> NormalizationBufferNames(const torch::nn::Module& module);

// Everything that keeps a StateDict from loading strictly into a module.
struct StateDictMismatch {
  std::vector<std::string> missing;     // in the model, not in the file
  std::vector<std::string> unexpected;  // in the file, not in the model
  // "fc.weight: file [1000, 512], model [10, 512]"
  std::vector<std::string> wrong_shape;
  // "normalize.mean: file [0.5, 0.5, 0.5], model [0.485, 0.456, 0.406]"
  std::vector<std::string> normalization;

  bool empty() const;
  size_t size() const;
  // One line per kind, each listing at most `max_per_kind` entries ("... and 40 more"), e.g.
  //   "2 missing keys (in the model, not in the file): head_dist.weight, head_dist.bias"
  // joined with `separator`.
  std::string ToString(size_t max_per_kind = 10, absl::string_view separator = "; ") const;
};

// Compares `state_dict` with `module` by name and shape (not dtype: like PyTorch's
// load_state_dict, values are converted to the module's dtype on load). Normalisation buffers
// may be absent from `state_dict`; present, they must match in shape and value (to 1e-6
// relative). When the file has no num_batches_tracked entry at all (files written before
// PyTorch 0.4.1, such as torchvision's first ResNet releases, as PyTorch itself accepts them),
// those buffers are not reported missing; if it has some of them, the rest are.
StateDictMismatch CompareStateDict(const StateDict& state_dict, const torch::nn::Module& module);

// Strict, all-or-nothing load: if CompareStateDict finds anything, returns InvalidArgument
//   "<source> does not fit the model (<n> problems): 2 missing keys (...): ...; 1 wrong-shaped
//   key: ..."
// (at most 10 names per kind; a differing normalisation gets its own sentence explaining that
// the config's normalisation differs from the weights'), and the module is unchanged. Otherwise
// copies every tensor into the module's (converting dtype, onto the module's device) and returns
// OK. `source` names the origin in errors, e.g. the file path. Never throws.
absl::Status LoadStateDict(const StateDict& state_dict, torch::nn::Module& module,
                           absl::string_view source);

// ReadStateDictFile(path, wrapper_key) then LoadStateDict; returns what the reader did (for
// logging: file.Describe()). Errors as in both.
absl::StatusOr<StateDictFile> LoadWeightsFile(const std::string& path, torch::nn::Module& module,
                                              const std::string& wrapper_key = "");

// WriteStateDictFile(path, ModuleStateDict(module)): a file that Python's torch.load reads and
// torchvision's / timm's load_state_dict(strict=True) accepts for the same architecture.
absl::Status ExportWeightsFile(const torch::nn::Module& module, const std::string& path);

}  // namespace robustness

#endif  // ROBUSTNESS_WEIGHTS_MODULE_STATE_DICT_H_
