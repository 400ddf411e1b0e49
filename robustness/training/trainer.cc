#include "robustness/training/trainer.h"

#include <chrono>
#include <filesystem>
#include <optional>
#include <utility>

#include <ATen/ATen.h>
#include <torch/optim/optimizer.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "robustness/attacks/training_pgd.h"
#include "robustness/augmentation/mixup.h"
#include "robustness/augmentation/transform_factory.h"
#include "robustness/base/progress.h"
#include "robustness/base/seed.h"
#include "robustness/base/status_macros.h"
#include "robustness/base/torch_status.h"
#include "robustness/datasets/batch_loader.h"
#include "robustness/datasets/repeated_augmentation_sampler.h"
#include "robustness/training/augmentation_schedule.h"
#include "robustness/training/checkpoint.h"
#include "robustness/training/loss.h"
#include "robustness/training/lr_schedule.h"
#include "robustness/training/model_ema.h"
#include "robustness/training/optimizer_factory.h"

namespace robustness {
namespace {

torch::Tensor LogToTensor(const std::vector<EpochLog>& logs) {
  torch::Tensor t = torch::zeros({static_cast<int64_t>(logs.size()), kEpochLogColumns},
                                 torch::kFloat64);
  for (size_t i = 0; i < logs.size(); ++i) {
    const EpochLog& e = logs[i];
    const double row[kEpochLogColumns] = {static_cast<double>(e.epoch), e.learning_rate,
                                          e.train_loss, e.train_accuracy, e.seconds,
                                          e.images_per_second};
    for (int j = 0; j < kEpochLogColumns; ++j) t[i][j] = row[j];
  }
  return t;
}

std::vector<EpochLog> LogFromTensor(const torch::Tensor& t) {
  std::vector<EpochLog> logs;
  if (!t.defined() || t.dim() != 2 || t.size(1) != kEpochLogColumns) return logs;
  auto a = t.accessor<double, 2>();
  for (int64_t i = 0; i < t.size(0); ++i) {
    logs.push_back({static_cast<int>(a[i][0]), a[i][1], a[i][2], a[i][3], a[i][4], a[i][5]});
  }
  return logs;
}

}  // namespace

double PeakLearningRate(const proto::TrainingConfig& c) {
  if (c.lr_reference_batch_size() <= 0) return c.optimizer().peak_lr();
  return c.optimizer().peak_lr() * c.batch_size() / c.lr_reference_batch_size();
}

absl::Status ValidateTrainingConfig(const proto::TrainingConfig& c, int64_t train_size,
                                    int image_size, int image_channels) {
  if (c.epochs() < 1 || c.epochs() > 10000) {
    return absl::InvalidArgumentError(
        absl::StrCat("training.epochs: must be in [1, 10000], got ", c.epochs()));
  }
  if (c.batch_size() < 1 || c.batch_size() > train_size) {
    return absl::InvalidArgumentError(absl::StrCat("training.batch_size: must be in [1, ",
                                                   train_size, "] (the training set size), got ",
                                                   c.batch_size()));
  }
  if (c.images_per_epoch() < 0 || c.images_per_epoch() > train_size ||
      (c.images_per_epoch() > 0 && c.images_per_epoch() < c.batch_size())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "training.images_per_epoch: must be 0 (whole set) or in [batch_size=", c.batch_size(),
        ", ", train_size, "], got ", c.images_per_epoch()));
  }
  if (!(c.label_smoothing() >= 0 && c.label_smoothing() < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("training.label_smoothing: must be in [0, 1), got ", c.label_smoothing()));
  }
  RETURN_IF_ERROR(ValidateOptimizerConfig(c.optimizer()));
  if (c.lr_reference_batch_size() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "training.lr_reference_batch_size: must be 0 (no scaling) or >= 1, got ",
        c.lr_reference_batch_size()));
  }
  const double peak = PeakLearningRate(c);
  if (!(peak > 0 && peak <= 10)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "training.lr_reference_batch_size: the scaled peak rate optimizer.peak_lr x batch_size / "
        "lr_reference_batch_size = ", c.optimizer().peak_lr(), " x ", c.batch_size(), " / ",
        c.lr_reference_batch_size(), " = ", peak, " must be in (0, 10]"));
  }
  RETURN_IF_ERROR(ValidateScheduleConfig(c.schedule(), peak, c.epochs()));
  if (c.accumulation_steps() < 1 || c.batch_size() % c.accumulation_steps() != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "training.accumulation_steps: must be >= 1 and divide batch_size=", c.batch_size(),
        ", got ", c.accumulation_steps()));
  }
  switch (c.batch_mixing_case()) {
    case proto::TrainingConfig::kNone:
      break;
    case proto::TrainingConfig::kMixup:
      RETURN_IF_ERROR(ValidateMixupConfig(c.mixup(), c.batch_size()));
      break;
    case proto::TrainingConfig::BATCH_MIXING_NOT_SET:
      return absl::InvalidArgumentError(
          "training.batch_mixing: set one of none {}, mixup { ... }");
  }
  switch (c.sampler_case()) {
    case proto::TrainingConfig::kShuffle:
      break;
    case proto::TrainingConfig::kRepeatedAugmentation: {
      const proto::RepeatedAugmentationSampler& ra = c.repeated_augmentation();
      if (!ra.has_repeats() || ra.repeats() < 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            "training.repeated_augmentation.repeats: must be set and >= 1, got ", ra.repeats()));
      }
      if (!ra.has_epoch_length_multiple() || ra.epoch_length_multiple() < 1 ||
          ra.epoch_length_multiple() > train_size) {
        return absl::InvalidArgumentError(absl::StrCat(
            "training.repeated_augmentation.epoch_length_multiple: must be set and in [1, ",
            train_size, "] (the training set size), got ", ra.epoch_length_multiple()));
      }
      break;
    }
    case proto::TrainingConfig::SAMPLER_NOT_SET:
      return absl::InvalidArgumentError(
          "training.sampler: set one of shuffle {}, repeated_augmentation { ... }");
  }
  switch (c.weight_averaging_case()) {
    case proto::TrainingConfig::kNoEma:
      break;
    case proto::TrainingConfig::kModelEma:
      if (!c.model_ema().has_decay() || !(c.model_ema().decay() > 0 && c.model_ema().decay() < 1)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "training.model_ema.decay: must be set and in (0, 1), got ", c.model_ema().decay()));
      }
      if (!c.model_ema().has_evaluate_ema()) {
        return absl::InvalidArgumentError("training.model_ema.evaluate_ema: must be set");
      }
      break;
    case proto::TrainingConfig::WEIGHT_AVERAGING_NOT_SET:
      return absl::InvalidArgumentError(
          "training.weight_averaging: set one of no_ema {}, model_ema { ... }");
  }
  switch (c.objective_case()) {
    case proto::TrainingConfig::kStandard:
      break;
    case proto::TrainingConfig::kAdversarial:
      RETURN_IF_ERROR(ValidateAdversarialTraining(c.adversarial(), "training.adversarial"));
      break;
    case proto::TrainingConfig::OBJECTIVE_NOT_SET:
      return absl::InvalidArgumentError(
          "training.objective: set one of standard {}, adversarial { ... }");
  }
  RETURN_IF_ERROR(ValidateTrainTransform(c.augmentation(), image_size, image_channels));
  return ValidateAugmentationSchedule(c);
}

absl::StatusOr<TrainingReport> TrainModel(ImageClassifierImpl& model,
                                          std::shared_ptr<const Dataset> train,
                                          const proto::TrainingConfig& config,
                                          const TrainerOptions& options) {
  // Range checks against the input the model sees: after the training transform (a
  // RandomResizedCrop turns a 500 px photo into a 224 px input).
  ASSIGN_OR_RETURN(ImageTransform probe_transform,
                   CreateTrainTransform(config.augmentation(), options.input_mean,
                                        options.input_std));
  ASSIGN_OR_RETURN(torch::Tensor probe, train->Image(0));
  if (probe_transform) {
    RETURN_IF_ERROR(CallTorch(
        "training.augmentation does not fit the training images",
        [&] {
          probe = probe_transform(probe, /*seed=*/0);
          return absl::OkStatus();
        },
        absl::StatusCode::kInvalidArgument));
  }
  RETURN_IF_ERROR(ValidateTrainingConfig(config, train->size(), probe.size(-1), probe.size(0)));
  model.to(options.device);
  ASSIGN_OR_RETURN(std::unique_ptr<torch::optim::Optimizer> optimizer,
                   CreateOptimizer(config.optimizer(), model));
  std::optional<ModelEma> ema;
  if (config.has_model_ema()) ema.emplace(model, config.model_ema().decay());

  TrainingReport report;
  if (!options.checkpoint_path.empty() && std::filesystem::exists(options.checkpoint_path)) {
    ASSIGN_OR_RETURN(CheckpointState state,
                     LoadCheckpoint(options.checkpoint_path, options.config_fingerprint, model,
                                    *optimizer));
    report.epochs = LogFromTensor(state.epoch_log);
    if (ema) {
      if (state.ema.size() != ema->state().size()) {
        return absl::DataLossError(absl::StrCat("checkpoint '", options.checkpoint_path,
                                                "' has no model EMA, which this recipe keeps"));
      }
      ema->set_state(state.ema);
    }
    report.resumed_after_epochs = static_cast<int>(state.epochs_done);
    std::fprintf(stderr, "[%s] resuming from %s after epoch %d of %d\n", options.name.c_str(),
                 options.checkpoint_path.c_str(), report.resumed_after_epochs, config.epochs());
  }

  const int64_t n = train->size();
  const int64_t per_epoch = config.images_per_epoch() > 0 ? config.images_per_epoch() : n;
  for (int epoch = report.resumed_after_epochs; epoch < config.epochs(); ++epoch) {
    model.train();
    // The curriculum (augmentation_schedule.h): this epoch's RandAugment magnitude and mixing.
    const proto::TrainingConfig epoch_config = TrainingConfigForEpoch(config, epoch);
    ASSIGN_OR_RETURN(ImageTransform transform,
                     CreateTrainTransform(epoch_config.augmentation(), options.input_mean,
                                          options.input_std));
    const uint64_t epoch_seed = DeriveSeed(options.seed, {kAugmentStream, uint64_t(epoch)});
    std::vector<int64_t> order;
    ImageSeedRule seed_rule = ImageSeedRule::kDatasetIndex;
    if (config.has_repeated_augmentation()) {
      order = RepeatedAugmentationOrder(n, epoch, config.repeated_augmentation().repeats(),
                                        config.repeated_augmentation().epoch_length_multiple(),
                                        /*replicas=*/1, /*rank=*/0);
      seed_rule = ImageSeedRule::kPosition;  // each copy its own augmentation
    } else {
      order = EpochOrder(n, options.seed, epoch);
    }
    if (static_cast<int64_t>(order.size()) > per_epoch) order.resize(per_epoch);
    const int64_t batches_per_epoch = static_cast<int64_t>(order.size()) / config.batch_size();
    BatchLoader loader(train, std::move(order), config.batch_size(), transform,
                       epoch_seed, options.data_loader_threads, /*drop_last=*/true, seed_rule);
    ProgressLine progress(absl::StrFormat("train %s epoch %d/%d", options.name, epoch + 1,
                                          config.epochs()),
                          batches_per_epoch, "img");
    double loss_sum = 0;
    int64_t correct = 0, seen = 0;
    const double first_lr = LearningRateAt(config.schedule(), PeakLearningRate(config),
                                           config.epochs(), epoch);
    const auto start = std::chrono::steady_clock::now();
    for (int64_t step = 0; step < batches_per_epoch; ++step) {
      ASSIGN_OR_RETURN(Batch batch, loader.Next());
      const double lr = LearningRateAt(config.schedule(), PeakLearningRate(config),
                                       config.epochs(), epoch + double(step) / batches_per_epoch);
      SetLearningRate(*optimizer, lr);
      torch::Tensor images = batch.images.to(options.device);
      torch::Tensor labels = batch.labels.to(options.device);
      optimizer->zero_grad();
      // The whole batch is mixed first (the pairs span it), then split into micro-batches.
      torch::Tensor inputs = images, targets;
      if (epoch_config.has_mixup()) {
        // Draws of (seed, epoch, step): a resumed epoch mixes exactly as the first time.
        at::Generator mix_generator = MakeCpuGenerator(
            DeriveSeed(options.seed, {kBatchMixStream, uint64_t(epoch), uint64_t(step)}));
        MixedBatch mixed = MixBatch(images, labels, train->num_classes(),
                                    config.label_smoothing(), epoch_config.mixup(), mix_generator);
        inputs = mixed.images;
        targets = mixed.targets;
      }
      // Gradient accumulation: k micro-batches, each loss scaled by 1/k, one optimiser step.
      // BatchNorm normalises each micro-batch on its own, as it would on k smaller GPUs.
      const int64_t k = config.accumulation_steps();
      double loss_value = 0;
      std::vector<torch::Tensor> logit_parts;
      const std::vector<torch::Tensor> input_parts = inputs.chunk(k);
      const std::vector<torch::Tensor> label_parts = labels.chunk(k);
      const std::vector<torch::Tensor> target_parts =
          targets.defined() ? targets.chunk(k) : std::vector<torch::Tensor>();
      for (int64_t part = 0; part < k; ++part) {
        torch::Tensor part_input = input_parts[part];
        if (config.has_adversarial()) {
          // Only the adversarial images enter the loss (PAPER.md 3.6), made per micro-batch as
          // the paper's forward does, with draws of (seed, epoch, step, part).
          at::Generator attack_generator = MakeGenerator(DeriveSeed(
              options.seed, {kAdversarialTrainingStream, uint64_t(epoch), uint64_t(step),
                             uint64_t(part)}),
              part_input.device());
          part_input = MakeTrainingAdversarialExamples(
              model, part_input, targets.defined() ? target_parts[part] : label_parts[part],
              config.adversarial(), attack_generator);
        }
        torch::Tensor part_logits = model.forward(part_input);
        torch::Tensor part_loss =
            targets.defined()
                ? SoftTargetCrossEntropy(part_logits, target_parts[part])
                : SmoothedCrossEntropy(part_logits, label_parts[part], config.label_smoothing());
        if (k > 1) part_loss = part_loss / static_cast<double>(k);
        part_loss.backward();
        loss_value += part_loss.item<double>();
        logit_parts.push_back(part_logits.detach());
      }
      optimizer->step();
      if (ema) ema->Update(model);
      const torch::Tensor logits = k > 1 ? torch::cat(logit_parts) : logit_parts[0];
      if (!std::isfinite(loss_value)) {
        return absl::InternalError(absl::StrFormat(
            "training %s diverged: loss %f at epoch %d step %d (lr %g); lower "
            "training.optimizer.peak_lr",
            options.name, loss_value, epoch + 1, step, lr));
      }
      loss_sum += loss_value;
      correct += logits.argmax(1).eq(labels).sum().item<int64_t>();
      seen += labels.size(0);
      progress.Update(step + 1, seen,
                      absl::StrFormat("loss %.4f | acc %.2f%% | lr %.3g", loss_sum / (step + 1),
                                      100.0 * correct / seen, lr));
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    report.epochs.push_back({epoch, first_lr, loss_sum / batches_per_epoch,
                             static_cast<double>(correct) / seen, seconds, seen / seconds});
    if (!options.checkpoint_path.empty()) {
      RETURN_IF_ERROR(SaveCheckpoint(
          options.checkpoint_path, model, *optimizer,
          {epoch + 1, LogToTensor(report.epochs), options.config_fingerprint,
           ema ? ema->state() : std::vector<torch::Tensor>()}));
    }
    if (options.on_epoch_end) RETURN_IF_ERROR(options.on_epoch_end(report.epochs));
    if (options.stop_after_epochs == epoch + 1) {
      return absl::AbortedError(
          absl::StrCat("stopped after epoch ", epoch + 1, " (stop_after_epochs)"));
    }
  }
  // The stored model is the EMA only when the recipe asks (DeiT and the paper report the raw one).
  if (ema && config.model_ema().evaluate_ema()) ema->CopyTo(model);
  model.eval();
  return report;
}

}  // namespace robustness
