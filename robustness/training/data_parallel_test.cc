// Data-parallel training on c10d (robustness/distributed/world.h): this binary starts copies of
// itself as 2 ranks on loopback, as torchrun would, and compares with one process.

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <torch/nn/modules/linear.h>
#include <torch/serialize.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/status_matchers.h"
#include "robustness/config/parse_text_proto.h"
#include "robustness/distributed/loopback_ranks.h"
#include "robustness/distributed/world.h"
#include "robustness/training/testing/toy_task.h"
#include "robustness/training/trainer.h"

namespace robustness {
namespace {

using testing::LinearModel;
using testing::ToyDataset;

// Global batch 16, two micro-batches per step: 8 images per rank, 4 per micro-batch.
proto::TrainingConfig Recipe() {
  return ParseTextProtoOrDie<proto::TrainingConfig>(R"pb(
    epochs: 3 batch_size: 16 label_smoothing: 0.1 images_per_epoch: 0 lr_reference_batch_size: 0
    accumulation_steps: 2
    optimizer { peak_lr: 0.5 weight_decay: 1e-4 no_decay_on_1d_params: true
                sgd { momentum: 0.9 nesterov: false } }
    schedule { semantics: PROGRESS warmup_epochs: 1 warmup_start_lr: 0.05 per_step: true cosine { min_lr: 0 cooldown_epochs: 0 } }
    augmentation { pad_crop { padding: 1 } horizontal_flip: true no_color {} no_erasing {} }
    none {} shuffle {} no_ema {} fixed_augmentation {} standard {})pb");
}

absl::StatusOr<TrainingReport> Train(LinearModel& model, const std::string& checkpoint,
                                     int stop_after_epochs, std::shared_ptr<World> world) {
  at::manual_seed(0);
  model.fc_->reset_parameters();
  TrainerOptions options;
  options.name = "toy";
  options.seed = 11;
  options.checkpoint_path = checkpoint;
  options.config_fingerprint = "fp";
  options.stop_after_epochs = stop_after_epochs;
  options.world = std::move(world);
  return TrainModel(model, ToyDataset(), Recipe(), options);
}

// Worker: trains (or stops after epoch 1, for the resume test) and rank 0 saves the weights.
int RunWorker() {
  absl::StatusOr<std::shared_ptr<World>> world = CurrentWorld();
  if (!world.ok()) {
    std::fprintf(stderr, "worker: %s\n", world.status().ToString().c_str());
    return 3;
  }
  if (std::getenv("DP_TEST_SPLIT") != nullptr) {
    // Batch 16 in 16 micro-batches: valid for one process, not for 2 (8 images per rank).
    LinearModel model;
    proto::TrainingConfig config = Recipe();
    config.set_accumulation_steps(16);
    TrainerOptions options;
    options.world = *world;
    absl::StatusOr<TrainingReport> report = TrainModel(model, ToyDataset(), config, options);
    const bool named = absl::IsInvalidArgument(report.status()) &&
                       absl::StrContains(report.status().message(),
                                         "must be divisible by the world size 2 times "
                                         "accumulation_steps 16");
    return named ? 0 : 6;
  }
  const std::string dir = std::getenv("DP_TEST_DIR");
  const int stop = std::atoi(std::getenv("DP_TEST_STOP"));
  LinearModel model;
  absl::StatusOr<TrainingReport> report = Train(model, dir + "/checkpoint.pt", stop, *world);
  if (stop > 0) return absl::IsAborted(report.status()) ? 0 : 4;
  if (!report.ok()) {
    std::fprintf(stderr, "worker: %s\n", report.status().ToString().c_str());
    return 5;
  }
  if ((*world)->is_main()) {
    torch::save(std::vector<torch::Tensor>{model.fc_->weight, model.fc_->bias},
                dir + "/weights.pt");
  }
  return 0;
}

// Runs 2 ranks of this binary to the end; true when both exit 0.
bool RunTwoRanks(const std::string& dir, int stop_after_epochs) {
  return RunLoopbackRanks(2, "DP_TEST_WORKER",
                          {"DP_TEST_DIR=" + dir, absl::StrCat("DP_TEST_STOP=", stop_after_epochs)}) ==
         std::vector<int>({0, 0});
}

std::vector<torch::Tensor> Load(const std::string& path) {
  std::vector<torch::Tensor> weights;
  torch::load(weights, path);
  return weights;
}

// 2 processes x 8 images = 1 process x 16 images: the same steps up to float round-off (the
// global mean is formed as (mean_0 + mean_1) / 2 instead of one sum over 16).
TEST(DataParallel, TwoProcessesEqualOneWithTheSameGlobalBatch) {
  const std::string dir = ::testing::TempDir() + "/dp_straight";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(RunTwoRanks(dir, -1));
  const std::vector<torch::Tensor> two = Load(dir + "/weights.pt");

  LinearModel one;
  ASSERT_THAT(Train(one, "", -1, World::Single()), IsOk());
  EXPECT_TRUE(torch::allclose(two[0], one.fc_->weight, /*rtol=*/1e-5, /*atol=*/1e-6))
      << (two[0] - one.fc_->weight).abs().max().item<float>();
  EXPECT_TRUE(torch::allclose(two[1], one.fc_->bias, 1e-5, 1e-6));
  EXPECT_FALSE(torch::equal(one.fc_->weight, torch::zeros_like(one.fc_->weight)));
}

// Killed after epoch 1 (the checkpoint rank 0 wrote), restarted: bitwise the uninterrupted run.
TEST(DataParallel, AResumedTwoProcessRunEqualsTheUninterruptedOne) {
  const std::string straight = ::testing::TempDir() + "/dp_uninterrupted";
  const std::string resumed = ::testing::TempDir() + "/dp_resumed";
  for (const std::string& d : {straight, resumed}) {
    std::filesystem::remove_all(d);
    std::filesystem::create_directories(d);
  }
  ASSERT_TRUE(RunTwoRanks(straight, -1));
  ASSERT_TRUE(RunTwoRanks(resumed, 1));
  ASSERT_TRUE(std::filesystem::exists(resumed + "/checkpoint.pt"));
  ASSERT_FALSE(std::filesystem::exists(resumed + "/weights.pt"));
  ASSERT_TRUE(RunTwoRanks(resumed, -1));
  const std::vector<torch::Tensor> a = Load(straight + "/weights.pt");
  const std::vector<torch::Tensor> b = Load(resumed + "/weights.pt");
  EXPECT_TRUE(torch::equal(a[0], b[0]));
  EXPECT_TRUE(torch::equal(a[1], b[1]));
}

// A recipe one process runs but 2 cannot split: both ranks stop with an error naming it.
TEST(DataParallel, ABatchTheWorldCannotSplitIsAClearError) {
  LinearModel model;
  proto::TrainingConfig config = Recipe();
  config.set_accumulation_steps(16);
  config.set_epochs(2);
  TrainerOptions options;
  options.world = World::Single();
  ASSERT_THAT(TrainModel(model, ToyDataset(), config, options), IsOk());
  EXPECT_EQ(RunLoopbackRanks(2, "DP_TEST_WORKER", {"DP_TEST_SPLIT=1"}),
            std::vector<int>({0, 0}));
}

}  // namespace
}  // namespace robustness

int main(int argc, char** argv) {
  if (std::getenv("DP_TEST_WORKER") != nullptr) return robustness::RunWorker();
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
