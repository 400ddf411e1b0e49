// Training checkpoints: model weights, optimiser state, epochs completed, per-epoch log, and the
// fingerprint of the config that wrote them. Written atomically (temp file + rename), so a run
// killed at any moment leaves either the previous checkpoint or the new one, never half of one.
#ifndef ROBUSTNESS_TRAINING_CHECKPOINT_H_
#define ROBUSTNESS_TRAINING_CHECKPOINT_H_

#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>
#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace robustness {

struct CheckpointState {
  int64_t epochs_done = 0;
  torch::Tensor epoch_log;  // float64 [epochs_done, kEpochLogColumns], see trainer.h
  std::string fingerprint;  // SHA-256 of the config that wrote it
  std::vector<torch::Tensor> ema;  // ModelEma::state() when the recipe keeps an EMA, else empty
};

absl::Status SaveCheckpoint(const std::string& path, torch::nn::Module& model,
                            torch::optim::Optimizer& optimizer, const CheckpointState& state);

// Loads into `model` and `optimizer` (which must have the same structure). NotFound if `path`
// does not exist; DataLoss naming the file if it is truncated or not a checkpoint, or if it
// holds a parameter or buffer of another shape than the model's (naming it and both shapes; the
// model is then partly overwritten and must not be used);
// FailedPrecondition if its fingerprint differs from `expected_fingerprint` (a checkpoint of a
// different config must never be resumed silently).
absl::StatusOr<CheckpointState> LoadCheckpoint(const std::string& path,
                                               const std::string& expected_fingerprint,
                                               torch::nn::Module& model,
                                               torch::optim::Optimizer& optimizer);

}  // namespace robustness

#endif  // ROBUSTNESS_TRAINING_CHECKPOINT_H_
