// The train-once model store: every experiment asks it for the models it needs; it trains what
// is missing (resumably, atomically) and reuses what exists, so regenerating every table trains
// each distinct model once (ResNet-50 and DeiT-S serve Tables 1, 3, 5 and 6 of the paper).
//
// A trained model is identified by a fingerprint: the SHA-256 of the text form of its
// TrainedModelSpec (robustness/proto/model_spec.proto): model config, training recipe, training
// data, seed, replica, initial weights' SHA-256, intra-op threads and device type. Nothing that
// evaluates it (attacks, test data, row labels) is part of it. Not part of it either: the code.
// A change that alters what training computes bumps kSpecFormatVersion.
//
// Layout: <root>/<readable-name>-<first 16 hex digits of the fingerprint>/
//   spec.pbtxt          the resolved model + recipe (+ data, seed) the fingerprint covers
//   checkpoint.pt       weights, optimiser state, epoch log (atomic, after every epoch)
//   training_log.jsonl  one JSON object per finished epoch (atomic rewrite, after every epoch)
//   provenance.pbtxt    commit, packages, kernels, ... of the last process that trained it
//   LOCK                flock(2)ed while a process uses the folder
// A folder is found by its fingerprint whatever its readable name, so relabelling a row reuses
// the model. A second process asking for a model in use gets FailedPrecondition ("in use by
// pid N") at once instead of corrupting it; the lock dies with its process (SIGKILL included).
#ifndef ROBUSTNESS_HARNESS_MODEL_STORE_H_
#define ROBUSTNESS_HARNESS_MODEL_STORE_H_

#include <memory>
#include <string>

#include <torch/nn/module.h>
#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "robustness/datasets/dataset.h"
#include "robustness/models/image_classifier.h"
#include "robustness/proto/dataset.pb.h"
#include "robustness/proto/model_run.pb.h"
#include "robustness/proto/model_spec.pb.h"
#include "robustness/proto/runtime.pb.h"
#include "robustness/training/trainer.h"

namespace robustness {

inline constexpr int kSpecFormatVersion = 1;

// What an experiment asks for: one row's model and recipe, the data it trains on, the run.
struct ModelRequest {
  std::string name;  // readable part of the folder name, e.g. the row label
  proto::ModelRun run;
  proto::DatasetConfig train_data;
  proto::RuntimeConfig runtime;  // seed, num_threads, device; data_loader_threads is free
};

// The spec the fingerprint covers. Reads run.init_weights (if set) and an imported distillation
// teacher's weights to hash them: NotFound naming the file when it is missing. A stored teacher
// enters as its ModelRun without label, family and paper_row (its own spec follows from it and
// the student's data, seed and runtime).
absl::StatusOr<proto::TrainedModelSpec> MakeSpec(const ModelRequest& request);
// The spec's text form without a `training.standard {}` marker (plain training is the absence
// of `adversarial`), so the models trained before TrainingConfig.objective existed keep their
// fingerprints and spec.pbtxt files.
std::string CanonicalSpecText(const proto::TrainedModelSpec& spec);
// 64 hex digits: SHA-256 of CanonicalSpecText.
std::string Fingerprint(const proto::TrainedModelSpec& spec);

struct StoredModel {
  ImageClassifier model{nullptr};  // trained, in eval mode, on the requested device
  TrainingReport report;           // every epoch, restored ones included
  std::string dir;
  std::string fingerprint;
  std::string weights_sha256;  // of every parameter and buffer (WeightsSha256)
  bool reused = false;         // true when this process trained no step
};

struct ObtainOptions {
  torch::Device device = torch::kCPU;
  int data_loader_threads = 1;
  std::string command_line;    // for provenance
  int stop_after_epochs = -1;  // test hook, as TrainerOptions::stop_after_epochs
  // Where a stored distillation teacher (DistillationConfig.stored) is obtained (trained first if
  // missing): "" = the store itself under ModelStore::Obtain; ObtainModelIn needs it set.
  std::string teacher_store_root;
};

// SHA-256 over the names and float bytes of every parameter and buffer, in registration order:
// equal iff the weights are bitwise equal.
std::string WeightsSha256(const torch::nn::Module& module);

class ModelStore {
 public:
  // Creates `root` if needed; FailedPrecondition/PermissionDenied naming it if not writable.
  static absl::StatusOr<ModelStore> Open(const std::string& root);

  const std::string& root() const { return root_; }

  // Trains the requested model into its folder, or resumes it, or reuses it when complete.
  // Errors: invalid init weights, a folder in use, a folder or checkpoint of another
  // fingerprint (refused, never overwritten), training and IO errors.
  absl::StatusOr<StoredModel> Obtain(const ModelRequest& request,
                                     std::shared_ptr<const Dataset> train,
                                     const ObtainOptions& options) const;

 private:
  explicit ModelStore(std::string root) : root_(std::move(root)) {}
  std::string root_;
};

// The same in a folder chosen by the caller (tools/train --output_dir): the folder must be new,
// or hold this very fingerprint.
absl::StatusOr<StoredModel> ObtainModelIn(const std::string& dir, const ModelRequest& request,
                                          std::shared_ptr<const Dataset> train,
                                          const ObtainOptions& options);

}  // namespace robustness

#endif  // ROBUSTNESS_HARNESS_MODEL_STORE_H_
