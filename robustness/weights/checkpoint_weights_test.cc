#include "robustness/weights/checkpoint_weights.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "robustness/base/status_matchers.h"
#include "robustness/models/resnet.h"
#include "robustness/training/checkpoint.h"
#include "robustness/weights/module_state_dict.h"
#include "robustness/weights/state_dict_io.h"

namespace robustness {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAreArray;

std::string TempPath(const std::string& name) { return ::testing::TempDir() + "/" + name; }

ResNet TinyResNet(uint64_t seed) {
  torch::manual_seed(seed);
  return ResNet(ResNetOptions(10, {1, 1})
                    .block(ResNetOptions::Block::kBasic)
                    .base_width(8)
                    .stem(ResNetOptions::Stem::kSmall)
                    .normalize(NormalizeOptions({0.5, 0.5, 0.5}, {0.5, 0.5, 0.5})));
}

// A checkpoint as the trainer writes it, after one SGD step in train mode (so BN statistics and
// counters have moved off their initial values).
std::string WriteTrainedCheckpoint(ResNet& model) {
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  model->train();
  torch::nn::functional::cross_entropy(model(torch::rand({4, 3, 16, 16})),
                                       torch::tensor({0, 1, 2, 3}))
      .backward();
  optimizer.step();
  const std::string path = TempPath("checkpoint.pt");
  CheckpointState state;
  state.epochs_done = 1;
  state.fingerprint = "abc";
  EXPECT_THAT(SaveCheckpoint(path, *model, optimizer, state), IsOk());
  return path;
}

TEST(ReadCheckpointWeights, ReturnsTheTrainedModelUnderPyTorchNames) {
  ResNet trained = TinyResNet(1);
  const std::string path = WriteTrainedCheckpoint(trained);
  absl::StatusOr<StateDict> weights = ReadCheckpointWeights(path);
  ASSERT_THAT(weights, IsOk());
  const StateDict expected = ModuleStateDict(*trained, /*include_normalization=*/true);
  EXPECT_THAT(weights->keys(), UnorderedElementsAreArray(expected.keys()));
  for (const auto& item : expected) {
    EXPECT_TRUE(torch::equal((*weights)[item.key()], item.value())) << item.key();
  }
  EXPECT_EQ((*weights)["bn1.num_batches_tracked"].item<int64_t>(), 1);
}

TEST(ReadCheckpointWeights, LoadsIntoAFreshModelWithIdenticalLogits) {
  ResNet trained = TinyResNet(1), fresh = TinyResNet(2);
  absl::StatusOr<StateDict> weights = ReadCheckpointWeights(WriteTrainedCheckpoint(trained));
  ASSERT_THAT(weights, IsOk());
  ASSERT_THAT(LoadStateDict(*weights, *fresh, "checkpoint"), IsOk());
  trained->eval();
  fresh->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor images = torch::rand({2, 3, 16, 16});
  EXPECT_TRUE(torch::equal(trained(images), fresh(images)));
}

TEST(ReadCheckpointWeights, CheckpointNormalizationMustMatchTheConfig) {
  ResNet trained = TinyResNet(1);  // trained with mean = std = 0.5
  absl::StatusOr<StateDict> weights = ReadCheckpointWeights(WriteTrainedCheckpoint(trained));
  ASSERT_THAT(weights, IsOk());
  torch::manual_seed(2);
  ResNet imagenet(ResNetOptions(10, {1, 1})
                      .block(ResNetOptions::Block::kBasic)
                      .base_width(8)
                      .stem(ResNetOptions::Stem::kSmall));
  EXPECT_THAT(LoadStateDict(*weights, *imagenet, "checkpoint"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("normalize.mean: file [0.5, 0.5, 0.5], "
                                 "model [0.485, 0.456, 0.406]")));
}

TEST(ReadCheckpointWeights, ReportsMissingCorruptAndForeignFiles) {
  EXPECT_THAT(ReadCheckpointWeights(TempPath("absent.pt")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("absent.pt")));
  const std::string state_dict = TempPath("state_dict.pth");
  ASSERT_THAT(ExportWeightsFile(*TinyResNet(1), state_dict), IsOk());
  EXPECT_THAT(
      ReadCheckpointWeights(state_dict),
      StatusIs(absl::StatusCode::kDataLoss, HasSubstr("is truncated or not a LibTorch archive")));
  const std::string module_archive = TempPath("module.pt");
  torch::save(TinyResNet(1), module_archive);  // a LibTorch archive, but not a checkpoint
  EXPECT_THAT(ReadCheckpointWeights(module_archive),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("without a 'model' entry, not a training checkpoint")));
}

}  // namespace
}  // namespace robustness
