// A restricted, non-executing reader for the pickle program inside a torch.save zip archive
// (data.pkl), the format Python's torch.save writes since PyTorch 1.6.
//
// Why not torch::pickle_load: LibTorch 1.13's unpickler turns collections.OrderedDict into None
// (it only expects OrderedDict as a tensor's empty backward-hook table), so every
// model.state_dict() saved from Python fails to load ("Expected GenericDict but got None"); it
// also rejects SETITEM (one-entry dicts) and objects such as the argparse.Namespace that DeiT-style
// checkpoints carry next to the weights. This reader understands the value subset of state dicts
// and training checkpoints, and never imports or calls anything: a GLOBAL it does not know becomes
// an opaque Object value, which is fine as long as the caller does not need it (e.g. "args").
//
// Supported: pickle protocols 2-5 (torch.save's default is 2) without out-of-band buffers; None,
// bool, int (up to 64 bits), float, str, bytes, tuple, list, dict (insertion order kept, as
// OrderedDict), set; dense tensors rebuilt by torch._utils._rebuild_tensor(_v2),
// _rebuild_parameter(_with_state) and torch._tensor._rebuild_from_type_v2 (plain Tensor or
// Parameter types), with storages of every dtype torch.save writes (float16/32/64, bfloat16,
// complex64/128, int8/16/32/64, uint8, bool). Not supported (an error naming the kind):
// quantized, sparse, nested and meta tensors, protocol-0/1 text strings, extension codes.
// Tensors share memory exactly as their storages did in the file (a view stays a view).
#ifndef ROBUSTNESS_WEIGHTS_INTERNAL_TORCH_UNPICKLER_H_
#define ROBUSTNESS_WEIGHTS_INTERNAL_TORCH_UNPICKLER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace robustness {
namespace internal {

// One Python value. Containers hold shared pointers because pickle memoises values and refers to
// them again (a dict is created empty, memoised, then filled).
struct PyValue {
  enum class Kind {
    kNone,
    kBool,
    kInt,
    kFloat,
    kString,
    kBytes,
    kTuple,
    kList,
    kDict,
    kSet,
    kTensor,   // `tensor`
    kStorage,  // `tensor`: the whole storage, 1-D
    kGlobal,   // `text` = "module.name", e.g. "torch.FloatStorage"; never imported
    kObject,   // an instance of an unknown class `text` (e.g. "argparse.Namespace"); opaque
  };
  Kind kind = Kind::kNone;
  bool boolean = false;
  int64_t integer = 0;
  double real = 0.0;
  std::string text;  // kString (UTF-8), kBytes, kGlobal and kObject (the class name)
  std::vector<std::shared_ptr<PyValue>> items;  // kTuple, kList, kSet
  std::vector<std::pair<std::shared_ptr<PyValue>, std::shared_ptr<PyValue>>> entries;  // kDict
  torch::Tensor tensor;  // kTensor, kStorage
};
using PyValuePtr = std::shared_ptr<PyValue>;

// "a dict", "a list", "an int", "an object of argparse.Namespace", ... for error messages.
std::string DescribeKind(const PyValue& value);

// Returns the storage record `key` ("data/<key>" in the archive) as a 1-D CPU tensor of `numel`
// elements of `dtype`; DataLoss if the record is missing or has the wrong size.
using StorageLoader = std::function<absl::StatusOr<torch::Tensor>(
    const std::string& key, torch::ScalarType dtype, int64_t numel)>;

// Runs the pickle program `pickle` and returns the value it builds. Each storage is loaded once
// (tensors that shared a storage in Python share it here). Errors: DataLoss for a malformed or
// truncated program (naming the opcode and byte offset), InvalidArgument for well-formed content
// outside the supported subset (naming it). Never throws.
absl::StatusOr<PyValuePtr> Unpickle(absl::string_view pickle, const StorageLoader& load_storage);

}  // namespace internal
}  // namespace robustness

#endif  // ROBUSTNESS_WEIGHTS_INTERNAL_TORCH_UNPICKLER_H_
