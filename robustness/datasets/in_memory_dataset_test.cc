#include "robustness/datasets/in_memory_dataset.h"

#include <ATen/ATen.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/status_matchers.h"

namespace robustness {
namespace {

TEST(InMemoryDataset, ImageIsFloatPixelsOver255) {
  torch::Tensor images = torch::tensor({0, 51, 255, 102}, torch::kUInt8).reshape({2, 1, 1, 2});
  InMemoryDataset ds(images, torch::tensor({3, 1}, torch::kLong), 4);

  ASSERT_EQ(ds.size(), 2);
  EXPECT_EQ(ds.num_classes(), 4);
  absl::StatusOr<torch::Tensor> image = ds.Image(1);
  ASSERT_THAT(image, IsOk());
  EXPECT_EQ(image->scalar_type(), torch::kFloat);
  EXPECT_EQ(image->sizes(), torch::IntArrayRef({1, 1, 2}));
  EXPECT_TRUE(torch::allclose(*image, torch::tensor({1.0f, 0.4f}).reshape({1, 1, 2})));
  EXPECT_EQ(ds.Label(0), 3);
  EXPECT_EQ(ds.Label(1), 1);
}

TEST(InMemoryDataset, ImageIsACopyTheCallerMayModify) {
  InMemoryDataset ds(torch::zeros({1, 3, 2, 2}, torch::kUInt8), torch::zeros({1}, torch::kLong), 1);
  ds.Image(0)->fill_(1.0f);
  EXPECT_EQ(ds.images().sum().item<int64_t>(), 0);
  EXPECT_EQ(ds.Image(0)->sum().item<float>(), 0.0f);
}

TEST(InMemoryDatasetDeathTest, RejectsLabelOutOfRange) {
  EXPECT_DEATH(InMemoryDataset(torch::zeros({1, 1, 2, 2}, torch::kUInt8),
                               torch::tensor({5}, torch::kLong), 5),
               "");
}

}  // namespace
}  // namespace robustness
