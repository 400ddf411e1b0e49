// The epoch loop shared by every recipe (PAPER.md 3.2 CNN recipe, 3.3 DeiT recipe).
//
// Each epoch: the recipe in force (TrainingConfigForEpoch, augmentation_schedule.h), its order
// (EpochOrder(seed, e), or DeiT's RepeatedAugmentationOrder), per-image augmentation, MixUp /
// CutMix on the whole batch, k accumulated micro-batches per optimiser step (under adversarial
// training each micro-batch replaced by its PGD adversarial images, robustness/attacks/
// training_pgd.h, PAPER.md 3.6), then the model EMA (model_ema.h) when the recipe keeps one.
//
// Determinism and resumption: epoch e visits the training set in its order and augments
// the image at position p with a generator seeded from (seed, e, dataset index, or p under the
// repeated-augmentation sampler), and the inner attack of micro-batch j of step s from (seed, e,
// s, j); the learning rate is a pure function of progress; a checkpoint
// (weights, optimiser state, EMA, epoch log, config fingerprint) is written atomically after
// every epoch. A run killed at any point and started again with the same
// config resumes after its last finished epoch and ends with the same weights and numbers as an
// uninterrupted run (CPU, same thread count).
#ifndef ROBUSTNESS_TRAINING_TRAINER_H_
#define ROBUSTNESS_TRAINING_TRAINER_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "robustness/datasets/dataset.h"
#include "robustness/distributed/world.h"
#include "robustness/models/image_classifier.h"
#include "robustness/proto/model_run.pb.h"
#include "robustness/proto/training.pb.h"

namespace robustness {

struct EpochLog {
  int epoch = 0;                 // 0-based
  double learning_rate = 0;      // at the epoch's first step
  double train_loss = 0;         // mean over the epoch's batches
  double train_accuracy = 0;     // in [0, 1], on the augmented (adversarial) training images
  double seconds = 0;
  double images_per_second = 0;
};
constexpr int kEpochLogColumns = 6;

struct TrainingReport {
  std::vector<EpochLog> epochs;  // every epoch, including those restored from a checkpoint
  int resumed_after_epochs = 0;  // 0 when the run started from scratch
};

struct TrainerOptions {
  std::string name;               // label of progress lines, e.g. "ResNet (CNN recipe)"
  int64_t seed = 0;
  int data_loader_threads = 1;
  torch::Device device = torch::kCPU;
  std::string checkpoint_path;    // "" disables checkpoints (and resuming)
  std::string config_fingerprint; // stored in the checkpoint; resuming requires a match
  // Test hook that simulates a kill: stop (with status Aborted) right after the checkpoint of
  // this many epochs is written. -1 = run to the end.
  int stop_after_epochs = -1;
  // Called after each epoch's checkpoint is written, with every epoch so far (restored ones
  // included); an error stops training with that error. Used for JSON-lines training logs.
  std::function<absl::Status(const std::vector<EpochLog>&)> on_epoch_end;
  // The model's input normalisation (ModelConfig.normalization), one value per channel: Random
  // Erasing fills in the normalised space. Required only when the recipe erases.
  std::vector<float> input_mean;
  std::vector<float> input_std;
  // Knowledge distillation (ModelRun.distillation, distillation.h): the config (nullptr = none)
  // and its teacher, in eval mode on `device`, run without gradients on each micro-batch's
  // training inputs. The teacher may be null only for a run that has nothing left to train (a
  // finished checkpoint); training a step without it is FailedPrecondition.
  const proto::DistillationConfig* distillation = nullptr;
  ImageClassifier teacher{nullptr};
  // The processes training together (robustness/distributed/world.h); null = CurrentWorld(),
  // i.e. torchrun's world when the environment names one, else this process alone. With W > 1
  // each rank loads batch_size / W images of each global batch (batch_size must divide by
  // W x accumulation_steps), gradients are averaged over the ranks before every step, rank 0
  // writes the checkpoint and calls on_epoch_end, and every rank resumes from that checkpoint.
  std::shared_ptr<World> world;
};

// optimizer.peak_lr, or peak_lr x batch_size / lr_reference_batch_size with the scaling rule.
double PeakLearningRate(const proto::TrainingConfig& config);

// Range checks: epochs >= 1, batch_size in [1, train_size], images_per_epoch 0 or in
// [batch_size, train_size], label_smoothing in [0, 1), and the optimiser, schedule,
// augmentation (with `image_channels`, 0 = not known), batch mixing, sampler, EMA and
// augmentation_schedule blocks. Errors name the field and value.
absl::Status ValidateTrainingConfig(const proto::TrainingConfig& config, int64_t train_size,
                                    int image_size, int image_channels = 0);

// Trains `model` in place on `train` (images float [C,H,W] in [0,1]). Resumes from
// options.checkpoint_path when it exists. Errors: invalid config, data decode errors, checkpoint
// IO errors, a checkpoint of another config (FailedPrecondition).
absl::StatusOr<TrainingReport> TrainModel(ImageClassifierImpl& model,
                                          std::shared_ptr<const Dataset> train,
                                          const proto::TrainingConfig& config,
                                          const TrainerOptions& options);

}  // namespace robustness

#endif  // ROBUSTNESS_TRAINING_TRAINER_H_
