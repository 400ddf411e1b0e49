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
#include "robustness/distributed/world.h"
#include "robustness/models/deit.h"
#include "robustness/training/augmentation_schedule.h"
#include "robustness/training/checkpoint.h"
#include "robustness/training/distillation.h"
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

  // Data parallelism (robustness/distributed/world.h): every rank starts from rank 0's weights
  // and loads only its part of each global batch; the gradients are summed over the ranks and
  // divided by their number before each step, so the step is that of the global batch's mean
  // loss (BatchNorm normalises each rank's part, as DDP does).
  std::shared_ptr<World> world = options.world;
  if (world == nullptr) {
    ASSIGN_OR_RETURN(world, CurrentWorld());
  }
  const int world_size = world->size(), rank = world->rank();
  if (world_size > 1) {
    if (config.batch_size() % (world_size * config.accumulation_steps()) != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "training.batch_size: ", config.batch_size(), " must be divisible by the world size ",
          world_size, " times accumulation_steps ", config.accumulation_steps(),
          " (the global batch splits into equal parts per process and micro-batch)"));
    }
    std::vector<torch::Tensor> state;
    for (const auto& p : model.named_parameters()) state.push_back(p.value());
    for (const auto& b : model.named_buffers()) state.push_back(b.value());
    RETURN_IF_ERROR(world->Broadcast(state, /*root=*/0));
    // A fresh EMA starts from the broadcast weights (a resumed one came from the checkpoint).
    if (ema && report.resumed_after_epochs == 0) ema.emplace(model, config.model_ema().decay());
    // The default generator (DeiT's drop-path masks) gets a seed per rank, as DeiT seeds
    // seed + rank: otherwise every rank would drop the same positions of its part.
    at::manual_seed(DeriveSeed(options.seed, {kRankStream + static_cast<uint64_t>(rank)}));
  }
  std::vector<torch::Tensor> buffers;
  for (const auto& b : model.named_buffers()) buffers.push_back(b.value());
  std::FILE* progress_out = world->progress_stream();  // stderr on rank 0 only
  // Seeds of per-rank draws (MixUp pairs, attack starts): the single-process streams on rank 0 of
  // 1; with W > 1 each rank its own (as DeiT seeds seed + rank).
  auto rank_stream = [&](std::initializer_list<uint64_t> keys) {
    if (world_size == 1) return DeriveSeed(options.seed, keys);
    // The rank folded in as one more key: DeriveSeed(DeriveSeed(seed, keys), {kRankStream + r}).
    return DeriveSeed(DeriveSeed(options.seed, keys), {kRankStream + static_cast<uint64_t>(rank)});
  };

  DeiTImpl* distilled_deit = nullptr;
  if (options.distillation != nullptr) {
    RETURN_IF_ERROR(ValidateDistillationConfig(*options.distillation, /*student_classes=*/0));
    if (report.resumed_after_epochs < config.epochs() && options.teacher == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "training ", options.name, " distils a teacher, but none was given"));
    }
    if (options.teacher != nullptr) options.teacher->eval();
    auto* deit = dynamic_cast<DeiTImpl*>(&model);
    if (deit != nullptr && deit->options.distillation_token()) distilled_deit = deit;
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
                       epoch_seed, options.data_loader_threads, /*drop_last=*/true, seed_rule,
                       BatchShard{rank, world_size});
    ProgressLine progress(absl::StrFormat("train %s epoch %d/%d", options.name, epoch + 1,
                                          config.epochs()),
                          batches_per_epoch, "img", 5.0, progress_out);
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
        at::Generator mix_generator =
            MakeCpuGenerator(rank_stream({kBatchMixStream, uint64_t(epoch), uint64_t(step)}));
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
          at::Generator attack_generator = MakeGenerator(
              rank_stream({kAdversarialTrainingStream, uint64_t(epoch), uint64_t(step),
                           uint64_t(part)}),
              part_input.device());
          part_input = MakeTrainingAdversarialExamples(
              model, part_input, targets.defined() ? target_parts[part] : label_parts[part],
              config.adversarial(), attack_generator);
        }
        // The class head's logits (the base loss) and the head the KD term trains: a DeiT's
        // distillation head when it has one, else the same single output.
        torch::Tensor part_logits, kd_logits;
        if (distilled_deit != nullptr) {
          auto [cls, dist] = distilled_deit->forward_heads(part_input);
          part_logits = cls;
          kd_logits = dist;
        } else {
          part_logits = model.forward(part_input);
          kd_logits = part_logits;
        }
        torch::Tensor part_loss =
            targets.defined()
                ? SoftTargetCrossEntropy(part_logits, target_parts[part])
                : SmoothedCrossEntropy(part_logits, label_parts[part], config.label_smoothing());
        if (options.distillation != nullptr) {
          torch::Tensor teacher_logits;
          {
            torch::NoGradGuard no_grad;
            teacher_logits = options.teacher->forward(part_input);
          }
          const double alpha = options.distillation->alpha();
          part_loss = part_loss * (1.0 - alpha) +
                      DistillationTerm(*options.distillation, kd_logits, teacher_logits) * alpha;
          // Accuracy is that of the model's forward() (the heads' average for a distilled DeiT).
          if (distilled_deit != nullptr) part_logits = (part_logits + kd_logits) / 2;
        }
        if (k > 1) part_loss = part_loss / static_cast<double>(k);
        part_loss.backward();
        loss_value += part_loss.item<double>();
        logit_parts.push_back(part_logits.detach());
      }
      if (world_size > 1) {
        std::vector<torch::Tensor> grads;
        for (torch::Tensor& p : model.parameters()) {
          if (!p.requires_grad()) continue;
          if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
          grads.push_back(p.grad());
        }
        RETURN_IF_ERROR(world->AllReduceSum(grads));
        for (torch::Tensor& g : grads) g.div_(static_cast<double>(world_size));
      }
      optimizer->step();
      if (world_size > 1 && !buffers.empty()) {
        // DDP's broadcast_buffers: BatchNorm's running statistics are rank 0's on every rank
        // (each rank normalised its own part in the step; the stored model is rank 0's).
        RETURN_IF_ERROR(world->Broadcast(buffers, /*root=*/0));
      }
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
    if (world_size > 1) {
      // The epoch's log covers the global batch: loss the mean over ranks, accuracy over all.
      torch::Tensor totals = torch::tensor({loss_sum, static_cast<double>(correct),
                                            static_cast<double>(seen)}, torch::kDouble);
      RETURN_IF_ERROR(world->AllReduceSum({totals}));
      loss_sum = totals[0].item<double>() / world_size;
      correct = static_cast<int64_t>(totals[1].item<double>());
      seen = static_cast<int64_t>(totals[2].item<double>());
    }
    report.epochs.push_back({epoch, first_lr, loss_sum / batches_per_epoch,
                             static_cast<double>(correct) / seen, seconds, seen / seconds});
    // Rank 0 writes the checkpoint and the log; the barrier keeps every rank from going on (or
    // stopping) before they exist, so all resume from the same file.
    if (!options.checkpoint_path.empty() && rank == 0) {
      RETURN_IF_ERROR(SaveCheckpoint(
          options.checkpoint_path, model, *optimizer,
          {epoch + 1, LogToTensor(report.epochs), options.config_fingerprint,
           ema ? ema->state() : std::vector<torch::Tensor>()}));
    }
    if (options.on_epoch_end && rank == 0) RETURN_IF_ERROR(options.on_epoch_end(report.epochs));
    RETURN_IF_ERROR(world->Barrier());
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
