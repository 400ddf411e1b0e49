#include "robustness/training/trainer.h"

#include <cmath>
#include <filesystem>
#include <map>

#include <ATen/ATen.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/modules/linear.h>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/attacks/training_pgd.h"
#include "robustness/base/seed.h"
#include "robustness/base/status_matchers.h"
#include "robustness/config/parse_text_proto.h"
#include "robustness/models/deit.h"
#include "robustness/models/resnet.h"
#include "robustness/training/distillation.h"
#include "robustness/training/testing/toy_task.h"

namespace robustness {
namespace {

using ::testing::HasSubstr;

using testing::LinearModel;
using testing::ToyDataset;

proto::TrainingConfig Recipe(int epochs) {
  auto config = ParseTextProtoOrDie<proto::TrainingConfig>(R"pb(
    batch_size: 16 label_smoothing: 0.1 images_per_epoch: 0 lr_reference_batch_size: 0 accumulation_steps: 1
    optimizer { peak_lr: 0.5 weight_decay: 1e-4 no_decay_on_1d_params: true
                sgd { momentum: 0.9 nesterov: false } }
    schedule { semantics: PROGRESS warmup_epochs: 1 warmup_start_lr: 0.05 per_step: true cosine { min_lr: 0 cooldown_epochs: 0 } }
    augmentation { pad_crop { padding: 0 } horizontal_flip: false no_color {} no_erasing {} }
    none {} shuffle {} no_ema {} fixed_augmentation {} standard {})pb");
  config.set_epochs(epochs);
  return config;
}

TEST(TrainModel, LearnsTheToyTask) {
  at::manual_seed(0);
  LinearModel model;
  TrainerOptions options;
  options.name = "toy";
  auto report = TrainModel(model, ToyDataset(), Recipe(4), options);
  ASSERT_THAT(report, IsOk());
  ASSERT_EQ(report->epochs.size(), 4u);
  EXPECT_LT(report->epochs.back().train_loss, report->epochs.front().train_loss);
  EXPECT_GT(report->epochs.back().train_accuracy, 0.9);
  EXPECT_FALSE(model.is_training());
}

TEST(TrainModel, ImagesPerEpochBoundsTheSteps) {
  at::manual_seed(0);
  LinearModel model;
  proto::TrainingConfig config = Recipe(2);
  config.set_images_per_epoch(32);
  auto report = TrainModel(model, ToyDataset(), config, TrainerOptions{});
  ASSERT_THAT(report, IsOk());
  for (const EpochLog& e : report->epochs) {
    EXPECT_NEAR(e.images_per_second * e.seconds, 32.0, 1e-6);  // 2 batches of 16
  }
}

TEST(TrainModel, KilledAndResumedEqualsUninterrupted) {
  const std::string dir = ::testing::TempDir();
  TrainerOptions options;
  options.name = "toy";
  options.seed = 11;
  options.data_loader_threads = 2;
  options.config_fingerprint = "fp";

  at::manual_seed(0);
  LinearModel straight;
  options.checkpoint_path = dir + "/straight.pt";
  ASSERT_THAT(TrainModel(straight, ToyDataset(), Recipe(3), options), IsOk());

  at::manual_seed(0);
  LinearModel interrupted;
  options.checkpoint_path = dir + "/interrupted.pt";
  options.stop_after_epochs = 1;
  EXPECT_THAT(TrainModel(interrupted, ToyDataset(), Recipe(3), options),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("after epoch 1")));
  at::manual_seed(99);  // a fresh process would initialise differently: the checkpoint decides
  LinearModel resumed;
  options.stop_after_epochs = -1;
  auto report = TrainModel(resumed, ToyDataset(), Recipe(3), options);
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ(report->resumed_after_epochs, 1);
  ASSERT_EQ(report->epochs.size(), 3u);
  EXPECT_TRUE(at::equal(resumed.fc_->weight, straight.fc_->weight));
  EXPECT_TRUE(at::equal(resumed.fc_->bias, straight.fc_->bias));
}

proto::TrainingConfig AdversarialRecipe(int epochs, const std::string& start) {
  proto::TrainingConfig config = Recipe(epochs);
  *config.mutable_adversarial() = ParseTextProtoOrDie<proto::AdversarialTraining>(
      "norm: LINF epsilon { pixels: 0.3 } step_size { pixels: 0.3 } num_steps: 1 " + start);
  return config;
}

struct UnderAttack {
  double accuracy = 0;
  double loss = 0;  // mean cross-entropy
};

// Accuracy and loss under the one-step attack from the clean image (FGSM at 0.3).
UnderAttack Fgsm(ImageClassifierImpl& model, const Dataset& data) {
  std::vector<torch::Tensor> all;
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < data.size(); ++i) {
    all.push_back(data.Image(i).value());
    labels.push_back(data.Label(i));
  }
  const torch::Tensor images = torch::stack(all);
  const torch::Tensor y = torch::tensor(labels, torch::kLong);
  const auto fgsm = ParseTextProtoOrDie<proto::AdversarialTraining>(
      "norm: LINF epsilon { pixels: 0.3 } step_size { pixels: 0.3 } num_steps: 1 "
      "per_batch_coin { clean_below: 100 }");
  torch::Generator gen = MakeCpuGenerator(0);
  const torch::Tensor adv = MakeTrainingAdversarialExamples(model, images, y, fgsm, gen);
  torch::NoGradGuard no_grad;
  model.eval();
  const torch::Tensor logits = model.forward(adv);
  return {logits.argmax(1).eq(y).to(torch::kDouble).mean().item<double>(),
          torch::nn::functional::cross_entropy(logits, y).item<double>()};
}

TEST(TrainModel, AdversarialTrainingLowersTheLossUnderAttack) {
  // The toy task's bright quarter survives a 0.3 perturbation (250 vs. <= 60 of 255): both
  // models stay accurate, but the one trained only on adversarial images has the lower loss
  // under attack (it minimised exactly that), and a different solution.
  TrainerOptions options;
  options.seed = 3;
  at::manual_seed(0);
  LinearModel plain;
  ASSERT_THAT(TrainModel(plain, ToyDataset(), Recipe(6), options), IsOk());
  at::manual_seed(0);
  LinearModel robust;
  ASSERT_THAT(TrainModel(robust, ToyDataset(), AdversarialRecipe(6, "per_image_uniform {}"),
                         options),
              IsOk());
  const UnderAttack p = Fgsm(plain, *ToyDataset());
  const UnderAttack r = Fgsm(robust, *ToyDataset());
  EXPECT_LT(r.loss, 0.8 * p.loss) << p.loss << " vs " << r.loss;
  EXPECT_GE(r.accuracy, p.accuracy);
  EXPECT_GT(r.accuracy, 0.9);
}

TEST(TrainModel, AdversarialTrainingResumesToTheSameWeights) {
  const std::string dir = ::testing::TempDir();
  TrainerOptions options;
  options.seed = 12;
  options.data_loader_threads = 2;
  options.config_fingerprint = "adv";
  proto::TrainingConfig config = AdversarialRecipe(3, "per_batch_coin { clean_below: 0.2 }");
  config.set_accumulation_steps(2);
  at::manual_seed(0);
  LinearModel straight;
  options.checkpoint_path = dir + "/adv_straight.pt";
  ASSERT_THAT(TrainModel(straight, ToyDataset(), config, options), IsOk());
  at::manual_seed(0);
  LinearModel resumed;
  options.checkpoint_path = dir + "/adv_resumed.pt";
  options.stop_after_epochs = 2;
  EXPECT_THAT(TrainModel(resumed, ToyDataset(), config, options),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("after epoch 2")));
  options.stop_after_epochs = -1;
  at::manual_seed(42);
  LinearModel fresh;
  ASSERT_THAT(TrainModel(fresh, ToyDataset(), config, options), IsOk());
  EXPECT_TRUE(at::equal(fresh.fc_->weight, straight.fc_->weight));
  // And it is not plain training under another name.
  at::manual_seed(0);
  LinearModel plain;
  options.checkpoint_path = "";
  proto::TrainingConfig standard = Recipe(3);
  standard.set_accumulation_steps(2);
  ASSERT_THAT(TrainModel(plain, ToyDataset(), standard, options), IsOk());
  EXPECT_FALSE(at::equal(plain.fc_->weight, straight.fc_->weight));
}

proto::TrainingConfig MixupRecipe(int epochs, double prob) {
  proto::TrainingConfig config = Recipe(epochs);
  *config.mutable_mixup() = ParseTextProtoOrDie<proto::MixupConfig>(R"pb(
    mixup_alpha: 0.8 cutmix_alpha: 1.0 cutmix_minmax { min: 0 max: 0 } switch_prob: 0.5
    mode: BATCH correct_lam: true)pb");
  config.mutable_mixup()->set_prob(prob);
  return config;
}

TEST(TrainModel, MixupWithProbabilityZeroIsLabelSmoothingTraining) {
  TrainerOptions options;
  options.seed = 4;
  at::manual_seed(0);
  LinearModel plain;
  auto a = TrainModel(plain, ToyDataset(), Recipe(2), options);
  at::manual_seed(0);
  LinearModel mixed;
  auto b = TrainModel(mixed, ToyDataset(), MixupRecipe(2, 0.0), options);
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  // Soft-target CE on smoothed one-hot targets is the smoothed CE: same training, to rounding.
  EXPECT_TRUE(at::allclose(plain.fc_->weight, mixed.fc_->weight, 1e-5, 1e-6));
  EXPECT_NEAR(a->epochs.back().train_loss, b->epochs.back().train_loss, 1e-5);
}

TEST(TrainModel, MixupTrainingResumesToTheSameWeights) {
  const std::string dir = ::testing::TempDir();
  TrainerOptions options;
  options.seed = 12;
  options.config_fingerprint = "fp";
  at::manual_seed(0);
  LinearModel straight;
  options.checkpoint_path = dir + "/mix_straight.pt";
  auto s = TrainModel(straight, ToyDataset(), MixupRecipe(3, 1.0), options);
  ASSERT_THAT(s, IsOk());
  at::manual_seed(0);
  LinearModel resumed;
  options.checkpoint_path = dir + "/mix_resumed.pt";
  options.stop_after_epochs = 2;
  EXPECT_THAT(TrainModel(resumed, ToyDataset(), MixupRecipe(3, 1.0), options),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("after epoch 2")));
  options.stop_after_epochs = -1;
  ASSERT_THAT(TrainModel(resumed, ToyDataset(), MixupRecipe(3, 1.0), options), IsOk());
  EXPECT_TRUE(at::equal(resumed.fc_->weight, straight.fc_->weight));
  // Mixed targets are harder than clean ones: the loss stays above the no-mix run's.
  at::manual_seed(0);
  LinearModel plain;
  auto p = TrainModel(plain, ToyDataset(), Recipe(3), TrainerOptions{});
  ASSERT_THAT(p, IsOk());
  EXPECT_GT(s->epochs.back().train_loss, p->epochs.back().train_loss);
}

TEST(TrainModel, MixupNeedsAnEvenBatch) {
  LinearModel model;
  proto::TrainingConfig config = MixupRecipe(2, 1.0);
  config.set_batch_size(15);
  EXPECT_THAT(TrainModel(model, ToyDataset(), config, TrainerOptions{}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("training.batch_size: must be even with training.mixup")));
}

// The whole DeiT-style pipeline at once: RandAugment, MixUp/CutMix with a curriculum, Random
// Erasing, the repeated-augmentation sampler and an evaluated EMA.
proto::TrainingConfig FullRecipe(int epochs) {
  proto::TrainingConfig config = MixupRecipe(epochs, 1.0);
  *config.mutable_augmentation() = ParseTextProtoOrDie<proto::TrainTransformConfig>(R"pb(
    pad_crop { padding: 1 } horizontal_flip: true
    rand_augment { spec: "rand-m9-mstd0.5-inc1" interpolation: BICUBIC fill: 128 }
    random_erasing { probability: 0.25 area_min: 0.02 area_max: 0.3333 aspect_min: 0.3
                     aspect_max: 3.3333 mode: PIXEL min_count: 1 max_count: 1 })pb");
  *config.mutable_repeated_augmentation() =
      ParseTextProtoOrDie<proto::RepeatedAugmentationSampler>("repeats: 3 epoch_length_multiple: 16");
  *config.mutable_model_ema() =
      ParseTextProtoOrDie<proto::ModelEmaConfig>("decay: 0.9 evaluate_ema: true");
  *config.mutable_augmentation_schedule() = ParseTextProtoOrDie<proto::AugmentationSchedule>(R"pb(
    rows { from_epoch: 0 rand_augment_magnitude: 1 mixup_prob: 0.5 cutmix_alpha: 0 switch_prob: 0.5 }
    rows { from_epoch: 1 rand_augment_magnitude: 5 mixup_prob: 1 cutmix_alpha: 1 switch_prob: 0.3 })pb");
  return config;
}

TEST(TrainModel, FullDeitPipelineLearnsAndResumesToTheSameWeightsAndEma) {
  const std::string dir = ::testing::TempDir();
  TrainerOptions options;
  options.seed = 13;
  options.config_fingerprint = "fp";
  options.input_mean = {0.5f};
  options.input_std = {0.25f};
  options.data_loader_threads = 2;
  at::manual_seed(0);
  LinearModel straight;
  options.checkpoint_path = dir + "/full_straight.pt";
  auto report = TrainModel(straight, ToyDataset(), FullRecipe(3), options);
  ASSERT_THAT(report, IsOk());
  ASSERT_EQ(report->epochs.size(), 3u);
  at::manual_seed(0);
  LinearModel resumed;
  options.checkpoint_path = dir + "/full_resumed.pt";
  options.stop_after_epochs = 1;
  EXPECT_THAT(TrainModel(resumed, ToyDataset(), FullRecipe(3), options),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("after epoch 1")));
  options.stop_after_epochs = -1;
  ASSERT_THAT(TrainModel(resumed, ToyDataset(), FullRecipe(3), options), IsOk());
  // evaluate_ema: the returned model holds the EMA, so equality covers the EMA's resume too.
  EXPECT_TRUE(at::equal(resumed.fc_->weight, straight.fc_->weight));
  EXPECT_TRUE(at::equal(resumed.fc_->bias, straight.fc_->bias));
  // Without the EMA the raw weights differ from the averaged ones.
  proto::TrainingConfig raw = FullRecipe(3);
  raw.mutable_model_ema()->set_evaluate_ema(false);
  at::manual_seed(0);
  LinearModel raw_model;
  options.checkpoint_path = "";
  ASSERT_THAT(TrainModel(raw_model, ToyDataset(), raw, options), IsOk());
  EXPECT_FALSE(at::equal(raw_model.fc_->weight, straight.fc_->weight));
}

TEST(TrainModel, RandomErasingNeedsTheModelsNormalisation) {
  TrainerOptions options;
  at::manual_seed(0);
  LinearModel model;
  EXPECT_THAT(TrainModel(model, ToyDataset(), FullRecipe(1), options),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("needs the model's normalisation mean and std")));
}

TEST(PeakLearningRate, LinearScalingRuleAsDeit) {
  proto::TrainingConfig config = Recipe(2);
  EXPECT_DOUBLE_EQ(PeakLearningRate(config), 0.5);  // 0: as written
  config.mutable_optimizer()->set_peak_lr(5e-4);
  config.set_batch_size(2048);
  config.set_lr_reference_batch_size(512);
  EXPECT_DOUBLE_EQ(PeakLearningRate(config), 2e-3);  // DeiT-S: 5e-4 x 2048 / 512
}

TEST(TrainModel, ScaledPeakDrivesTheScheduleAndIsRangeChecked) {
  proto::TrainingConfig config = Recipe(2);
  config.mutable_optimizer()->set_peak_lr(0.25);
  config.set_lr_reference_batch_size(8);  // batch 16: applied peak 0.5, as Recipe's own
  at::manual_seed(0);
  LinearModel scaled;
  auto a = TrainModel(scaled, ToyDataset(), config, TrainerOptions{});
  at::manual_seed(0);
  LinearModel plain;
  auto b = TrainModel(plain, ToyDataset(), Recipe(2), TrainerOptions{});
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  EXPECT_TRUE(at::equal(scaled.fc_->weight, plain.fc_->weight));
  config.set_lr_reference_batch_size(-1);
  EXPECT_THAT(TrainModel(scaled, ToyDataset(), config, TrainerOptions{}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("training.lr_reference_batch_size: must be 0 (no scaling) or "
                                 ">= 1, got -1")));
  config.set_lr_reference_batch_size(0);
  config.mutable_optimizer()->set_peak_lr(8);
  config.set_lr_reference_batch_size(1);  // 8 x 16 / 1 = 128
  EXPECT_THAT(TrainModel(scaled, ToyDataset(), config, TrainerOptions{}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("= 128 must be in (0, 10]")));
}

TEST(TrainModel, AccumulatedMicroBatchesEqualTheWholeBatch) {
  // No BatchNorm in the linear model: k micro-batches of B / k give the gradient of the batch.
  proto::TrainingConfig config = Recipe(2);
  at::manual_seed(0);
  LinearModel whole;
  auto a = TrainModel(whole, ToyDataset(), config, TrainerOptions{});
  config.set_accumulation_steps(4);
  at::manual_seed(0);
  LinearModel accumulated;
  auto b = TrainModel(accumulated, ToyDataset(), config, TrainerOptions{});
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  EXPECT_TRUE(at::allclose(whole.fc_->weight, accumulated.fc_->weight, 1e-4, 1e-6));
  EXPECT_NEAR(a->epochs.back().train_loss, b->epochs.back().train_loss, 1e-5);
  EXPECT_DOUBLE_EQ(a->epochs.back().train_accuracy, b->epochs.back().train_accuracy);
  config.set_accumulation_steps(3);  // 16 % 3 != 0
  EXPECT_THAT(TrainModel(accumulated, ToyDataset(), config, TrainerOptions{}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("training.accumulation_steps: must be >= 1 and divide "
                                 "batch_size=16, got 3")));
}

TEST(TrainModel, RejectsBadConfigBeforeTraining) {
  LinearModel model;
  proto::TrainingConfig config = Recipe(2);
  config.set_batch_size(1000);
  EXPECT_THAT(TrainModel(model, ToyDataset(), config, TrainerOptions{}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("training.batch_size: must be in [1, 96]")));
  config = Recipe(2);
  config.set_images_per_epoch(8);
  EXPECT_THAT(TrainModel(model, ToyDataset(), config, TrainerOptions{}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("training.images_per_epoch: must be 0 (whole set) or in "
                                 "[batch_size=16, 96], got 8")));
  config = Recipe(0);
  EXPECT_THAT(TrainModel(model, ToyDataset(), config, TrainerOptions{}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("training.epochs")));
  TrainerOptions normalised;
  normalised.input_mean = {0.5f};
  normalised.input_std = {0.25f};
  config = FullRecipe(2);
  config.mutable_model_ema()->set_decay(1.0);
  EXPECT_THAT(TrainModel(model, ToyDataset(), config, normalised),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("training.model_ema.decay: must be set and in (0, 1), got 1")));
  config = FullRecipe(2);
  config.mutable_repeated_augmentation()->set_repeats(0);
  EXPECT_THAT(TrainModel(model, ToyDataset(), config, normalised),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("training.repeated_augmentation.repeats: must be set and >= 1")));
  config = FullRecipe(2);
  config.mutable_augmentation()->mutable_rand_augment()->set_spec("rand-m9-foo3");
  EXPECT_THAT(TrainModel(model, ToyDataset(), config, normalised),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown key \"foo\"")));
  config = FullRecipe(2);
  config.mutable_augmentation()->mutable_rand_augment()->add_fill(1);
  EXPECT_THAT(TrainModel(model, ToyDataset(), config, normalised),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("image of shape [1, 4, 4] has another channel count than "
                                 "augmentation.rand_augment.fill (2 values)")));
  config = FullRecipe(2);
  config.mutable_augmentation_schedule()->mutable_rows(1)->set_from_epoch(0);
  EXPECT_THAT(TrainModel(model, ToyDataset(), config, normalised),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("rows[1].from_epoch: must be above the previous row's 0")));
}

// Distillation (distillation.h): a fixed random teacher on the toy task.
proto::DistillationConfig Distill(double alpha) {
  auto config = ParseTextProtoOrDie<proto::DistillationConfig>(R"pb(
    imported { model { num_classes: 3 } weights: "unused: the trainer takes the teacher as is" }
    kind: SOFT tau: 2.0 kl_reduction: BATCH_MEAN)pb");
  config.set_alpha(alpha);
  return config;
}

std::shared_ptr<LinearModel> Teacher() {
  at::manual_seed(123);
  return std::make_shared<LinearModel>();
}

// alpha 0: (1 - 0) base + 0 KD, with the teacher still run: bit for bit plain training.
TEST(TrainModel, DistillationWithAlphaZeroIsPlainTrainingBitForBit) {
  at::manual_seed(0);
  LinearModel plain;
  ASSERT_THAT(TrainModel(plain, ToyDataset(), Recipe(2), TrainerOptions{}), IsOk());
  at::manual_seed(0);
  LinearModel distilled;
  const proto::DistillationConfig config = Distill(0.0);
  TrainerOptions options;
  options.distillation = &config;
  options.teacher = Teacher();
  ASSERT_THAT(TrainModel(distilled, ToyDataset(), Recipe(2), options), IsOk());
  EXPECT_TRUE(at::equal(distilled.fc_->weight, plain.fc_->weight));
  EXPECT_TRUE(at::equal(distilled.fc_->bias, plain.fc_->bias));
}

// alpha 1: only the KD term; the student's softened outputs approach the teacher's.
TEST(TrainModel, DistillationPullsTheStudentTowardsTheTeacher) {
  const std::shared_ptr<const Dataset> data = ToyDataset();
  torch::Tensor images = torch::stack({*data->Image(0), *data->Image(1), *data->Image(2),
                                       *data->Image(3), *data->Image(4), *data->Image(5)});
  std::shared_ptr<LinearModel> teacher = Teacher();
  auto kl = [&](LinearModel& student) {
    torch::NoGradGuard no_grad;
    return SoftDistillationLoss(student.forward(images), teacher->forward(images), 2.0,
                                proto::DistillationConfig::BATCH_MEAN)
        .item<double>();
  };
  at::manual_seed(0);
  LinearModel student;
  const double before = kl(student);
  const proto::DistillationConfig config = Distill(1.0);
  TrainerOptions options;
  options.distillation = &config;
  options.teacher = teacher;
  ASSERT_THAT(TrainModel(student, data, Recipe(3), options), IsOk());
  EXPECT_LT(kl(student), 0.5 * before);
}

// A ResNet student (one output: both terms on it, where the paper's released code fails) under a
// DeiT teacher with a distillation token; the run resumes like any other.
TEST(TrainModel, ResNetStudentOfADeiTTeacherTrains) {
  at::manual_seed(7);
  auto teacher = std::make_shared<DeiTImpl>(DeiTOptions(3).image_size(4).patch_size(2)
                                                .in_channels(1).embed_dim(8).depth(1)
                                                .num_heads(2).distillation_token(true)
                                                .normalize(NormalizeOptions({0.5}, {0.25})));
  at::manual_seed(0);
  ResNetImpl student(ResNetOptions(3, {1}).block(ResNetOptions::Block::kBasic).base_width(4)
                         .stem(ResNetOptions::Stem::kSmall).in_channels(1)
                         .normalize(NormalizeOptions({0.5}, {0.25})));
  const proto::DistillationConfig config = Distill(0.5);
  TrainerOptions options;
  options.distillation = &config;
  options.teacher = teacher;
  auto report = TrainModel(student, ToyDataset(), Recipe(3), options);
  ASSERT_THAT(report, IsOk());
  for (const EpochLog& e : report->epochs) EXPECT_TRUE(std::isfinite(e.train_loss));
  EXPECT_LT(report->epochs.back().train_loss, report->epochs.front().train_loss);
}

// A DeiT student with a distillation token: the base loss trains head, the KD term head_dist
// (DeiT's split). With alpha 1 only head_dist (and the trunk) learn; head stays as initialised.
TEST(TrainModel, DistilledDeiTTrainsTheDistillationHeadOnTheKdTerm) {
  at::manual_seed(0);
  DeiTImpl student(DeiTOptions(3).image_size(4).patch_size(2).in_channels(1).embed_dim(8)
                       .depth(1).num_heads(2).distillation_token(true)
                       .normalize(NormalizeOptions({0.5}, {0.25})));
  std::map<std::string, torch::Tensor> before;
  for (const auto& p : student.named_parameters()) before[p.key()] = p.value().detach().clone();
  const proto::DistillationConfig config = Distill(1.0);
  TrainerOptions options;
  options.distillation = &config;
  options.teacher = Teacher();
  proto::TrainingConfig recipe = Recipe(2);
  recipe.mutable_optimizer()->set_weight_decay(0);
  ASSERT_THAT(TrainModel(student, ToyDataset(), recipe, options), IsOk());
  for (const auto& p : student.named_parameters()) {
    const bool same = at::equal(p.value(), before[p.key()]);
    if (absl::StartsWith(p.key(), "head.")) {
      EXPECT_TRUE(same) << p.key();
    } else if (absl::StartsWith(p.key(), "head_dist.")) {
      EXPECT_FALSE(same) << p.key();
    }
  }
}

TEST(TrainModel, DistillationWithoutATeacherIsAnError) {
  LinearModel model;
  const proto::DistillationConfig config = Distill(0.5);
  TrainerOptions options;
  options.name = "toy";
  options.distillation = &config;
  EXPECT_THAT(TrainModel(model, ToyDataset(), Recipe(2), options),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("distils a teacher, but none was given")));
}

}  // namespace
}  // namespace robustness
