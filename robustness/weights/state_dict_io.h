// PyTorch state-dict files: read what Python's torch.save wrote, write what Python's torch.load
// reads. The bridge between this project's models and torchvision / timm / the paper's released
// checkpoints (PAPER.md 3.12 architectures; parameter names as in robustness/models).
//
// Reading (ReadStateDictFile) accepts the zip format of torch.save (PyTorch >= 1.6, the default
// since then) holding
//   * a state dict: model.state_dict() (an OrderedDict) or any dict of str -> tensor;
//   * a checkpoint that wraps one: {"model": sd, "optimizer": ..., "epoch": ..., "args": ...} as
//     DeiT's main.py and the paper's code write, {"state_dict": sd, "state_dict_ema": ...} as
//     timm's train.py writes. The other entries may hold anything (optimizer state, numbers,
//     argparse.Namespace); they are parsed without executing code and ignored.
// Keys carrying DistributedDataParallel's "module." prefix (on every key) are stripped.
// Tensors are dense CPU tensors of the file's dtype (anything torch.save writes: float16/32/64,
// bfloat16, integers, bool); tensors saved on a GPU are read onto the CPU. The reader is our own
// (internal/torch_unpickler.h): LibTorch 1.13's torch::pickle_load cannot read a Python
// model.state_dict() at all (it turns the OrderedDict into None).
//
// Not readable, with an error that says so: the legacy pre-1.6 format (re-save it in Python:
// torch.save(torch.load(p), p2)), TorchScript / LibTorch archives (torch.jit.save,
// torch::save, this project's training checkpoints: see checkpoint_weights.h), plain pickles.
//
// Writing (WriteStateDictFile) produces a zip-format file, via LibTorch's torch::pickle_save, that
// Python loads with torch.load(path) into a plain dict (str -> tensor), which
// load_state_dict(strict=True) accepts (python_export_test checks this against torchvision and
// the reference models). Example, exporting and loading into torchvision:
//   RETURN_IF_ERROR(WriteStateDictFile("resnet18.pth", ModuleStateDict(*model)));
//   # Python: torchvision.models.resnet18().load_state_dict(torch.load("resnet18.pth"))
#ifndef ROBUSTNESS_WEIGHTS_STATE_DICT_IO_H_
#define ROBUSTNESS_WEIGHTS_STATE_DICT_IO_H_

#include <string>
#include <vector>

// torch/types.h first: torch/ordered_dict.h uses TORCH_CHECK without including its header.
#include <torch/types.h>

#include <torch/ordered_dict.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace robustness {

// Parameter / buffer name (PyTorch's dotted path, e.g. "layer1.0.conv1.weight") -> tensor, in the
// file's (or module's) order.
using StateDict = torch::OrderedDict<std::string, torch::Tensor>;

// The wrapper keys tried, in this order, when a file's top-level dict is not itself a state dict
// (timm's loader order, then DeiT's EMA entry): "state_dict", "model", "model_ema",
// "state_dict_ema".
const std::vector<std::string>& StateDictWrapperKeys();

// What ReadStateDictFile found and did.
struct StateDictFile {
  StateDict tensors;
  std::string wrapper_key;                // "" if the top level was the state dict itself
  std::vector<std::string> ignored_keys;  // the wrapper's other top-level entries
  bool stripped_module_prefix = false;    // every key began with "module." (DDP)

  // One line, e.g. "state dict under 'model' (ignored: optimizer, epoch, args); 'module.' prefix
  // stripped" or "bare state dict".
  std::string Describe() const;
};

// Reads `path`. `wrapper_key` "" picks automatically: the top-level dict itself if every value
// is a tensor, else the first of StateDictWrapperKeys() present; a non-empty `wrapper_key` (e.g.
// "model_ema") selects that entry. Errors (all name the file):
//   NotFound         no such file;
//   DataLoss         truncated or damaged (zip or pickle), a storage record missing or short
//                    (LibTorch's zip reader skips CRC-32 checks, so flipped bits inside tensor
//                    data are not detected);
//   InvalidArgument  not a torch.save zip file (legacy format, TorchScript archive, plain pickle,
//                    anything else), or content that is not a state dict: the top level is not a
//                    dict, no wrapper key (listing the keys present), a value that is not a tensor
//                    (naming its key and kind), unsupported tensor kinds (quantized, sparse);
//   NotFound         `wrapper_key` given but absent (listing the keys present).
// Never throws.
absl::StatusOr<StateDictFile> ReadStateDictFile(const std::string& path,
                                                const std::string& wrapper_key = "");

// Writes `state_dict` to `path` atomically (robustness/base/atomic_file.h) as a torch.save-style
// zip archive of a dict str -> tensor, in `state_dict`'s order. Tensors are detached, moved to
// the CPU and made contiguous; dtypes are kept (e.g. BatchNorm's num_batches_tracked stays
// int64). Errors name the path. Never throws.
absl::Status WriteStateDictFile(const std::string& path, const StateDict& state_dict);

}  // namespace robustness

#endif  // ROBUSTNESS_WEIGHTS_STATE_DICT_IO_H_
