// The model weights inside this project's training checkpoints (robustness/training/checkpoint.h),
// as a StateDict: the way a model trained here goes out to Python (tools/weights export).
//
// A training checkpoint is a LibTorch archive (torch::serialize::OutputArchive), not a torch.save
// file; its "model" entry holds the module's parameters and buffers (normalisation buffers
// included), nested by submodule. This reads only that entry: no optimiser, no config
// fingerprint, so a checkpoint of any config can be exported, and the strict LoadStateDict
// (module_state_dict.h) then checks it against the model built from the config the user names.
#ifndef ROBUSTNESS_WEIGHTS_CHECKPOINT_WEIGHTS_H_
#define ROBUSTNESS_WEIGHTS_CHECKPOINT_WEIGHTS_H_

#include <string>

#include "absl/status/statusor.h"
#include "robustness/weights/state_dict_io.h"

namespace robustness {

// The "model" entry of the training checkpoint at `path`, flattened to PyTorch names
// ("layer1.0.conv1.weight"). NotFound if `path` does not exist; DataLoss if it is truncated or
// not a LibTorch archive; InvalidArgument if it is an archive without a "model" entry (not a
// training checkpoint). Never throws.
absl::StatusOr<StateDict> ReadCheckpointWeights(const std::string& path);

}  // namespace robustness

#endif  // ROBUSTNESS_WEIGHTS_CHECKPOINT_WEIGHTS_H_
