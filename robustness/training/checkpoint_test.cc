#include "robustness/training/checkpoint.h"

#include <fstream>

#include <torch/nn/modules/linear.h>
#include <torch/optim/sgd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/atomic_file.h"
#include "robustness/base/status_matchers.h"

namespace robustness {
namespace {

using ::testing::HasSubstr;

struct Fixture {
  Fixture() : fc(3, 2), optimizer(fc->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9)) {
    auto loss = fc->forward(torch::ones({4, 3})).sum();
    loss.backward();
    optimizer.step();  // creates momentum buffers, so optimiser state is non-trivial
  }
  torch::nn::Linear fc;
  torch::optim::SGD optimizer;
};

TEST(Checkpoint, RoundTripsWeightsOptimizerAndLog) {
  torch::manual_seed(0);
  Fixture a;
  const std::string path = ::testing::TempDir() + "/ckpt_roundtrip.pt";
  CheckpointState state{3, torch::arange(6, torch::kFloat64).reshape({3, 2}), "abc123"};
  ASSERT_THAT(SaveCheckpoint(path, *a.fc, a.optimizer, state), IsOk());

  torch::manual_seed(1);
  Fixture b;
  auto loaded = LoadCheckpoint(path, "abc123", *b.fc, b.optimizer);
  ASSERT_THAT(loaded, IsOk());
  EXPECT_EQ(loaded->epochs_done, 3);
  EXPECT_TRUE(torch::equal(loaded->epoch_log, state.epoch_log));
  EXPECT_TRUE(torch::equal(a.fc->weight, b.fc->weight));
  // Same optimiser state: one more identical step keeps the weights identical.
  for (Fixture* f : {&a, &b}) {
    f->optimizer.zero_grad();
    f->fc->forward(torch::ones({4, 3})).sum().backward();
    f->optimizer.step();
  }
  EXPECT_TRUE(torch::equal(a.fc->weight, b.fc->weight));
}

TEST(Checkpoint, RefusesAnotherConfigsCheckpoint) {
  Fixture a;
  const std::string path = ::testing::TempDir() + "/ckpt_other.pt";
  ASSERT_THAT(SaveCheckpoint(path, *a.fc, a.optimizer, {1, {}, "config-A"}), IsOk());
  EXPECT_THAT(LoadCheckpoint(path, "config-B", *a.fc, a.optimizer),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("different config")));
}

TEST(Checkpoint, RefusesAModelOfAnotherShape) {
  Fixture a;
  const std::string path = ::testing::TempDir() + "/ckpt_shape.pt";
  ASSERT_THAT(SaveCheckpoint(path, *a.fc, a.optimizer, {1, {}, "same"}), IsOk());
  torch::nn::Linear wider(3, 5);
  torch::optim::SGD optimizer(wider->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  EXPECT_THAT(LoadCheckpoint(path, "same", *wider, optimizer),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("holds weight with shape [2, 3], the model has [5, 3]")));
}

TEST(Checkpoint, TruncatedFileIsDataLoss) {
  Fixture a;
  const std::string path = ::testing::TempDir() + "/ckpt_trunc.pt";
  ASSERT_THAT(SaveCheckpoint(path, *a.fc, a.optimizer, {1, {}, "f"}), IsOk());
  std::string bytes = *ReadFileToString(path);
  ASSERT_THAT(WriteFileAtomically(path, bytes.substr(0, bytes.size() / 2)), IsOk());
  EXPECT_THAT(LoadCheckpoint(path, "f", *a.fc, a.optimizer),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr(path)));
  EXPECT_THAT(LoadCheckpoint(path + ".missing", "f", *a.fc, a.optimizer),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no checkpoint")));
}

}  // namespace
}  // namespace robustness
