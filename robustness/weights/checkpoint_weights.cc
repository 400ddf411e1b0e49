#include "robustness/weights/checkpoint_weights.h"

#include <filesystem>
#include <system_error>

#include <torch/serialize/input-archive.h>

#include "absl/strings/str_cat.h"
#include "robustness/base/torch_status.h"

namespace robustness {
namespace {

// Module::save writes each module's parameters and buffers as tensors and each child as a nested
// archive; this walks that tree back into dotted names.
void Flatten(torch::serialize::InputArchive& archive, const std::string& prefix, StateDict& out) {
  for (const std::string& key : archive.keys()) {
    const std::string name = prefix.empty() ? key : absl::StrCat(prefix, ".", key);
    torch::Tensor tensor;
    if (archive.try_read(key, tensor)) {
      out.insert(name, tensor);
      continue;
    }
    torch::serialize::InputArchive child;
    if (archive.try_read(key, child)) Flatten(child, name, out);
  }
}

}  // namespace

absl::StatusOr<StateDict> ReadCheckpointWeights(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    return absl::NotFoundError(absl::StrCat("no checkpoint at '", path, "'"));
  }
  StateDict weights;
  bool has_model = false;
  absl::Status status = CallTorch(
      absl::StrCat("checkpoint '", path, "' is truncated or not a LibTorch archive"),
      [&] {
        torch::serialize::InputArchive archive;
        archive.load_from(path, torch::kCPU);
        torch::serialize::InputArchive model;
        has_model = archive.try_read("model", model);
        if (has_model) Flatten(model, "", weights);
        return absl::OkStatus();
      },
      absl::StatusCode::kDataLoss);
  if (!status.ok()) return status;
  if (!has_model) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path,
                     "' is a LibTorch archive without a 'model' entry, not a training checkpoint "
                     "written by robustness/training (SaveCheckpoint)"));
  }
  return weights;
}

}  // namespace robustness
