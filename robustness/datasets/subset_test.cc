#include "robustness/datasets/subset.h"

#include <algorithm>
#include <memory>
#include <numeric>
#include <vector>

#include <ATen/ATen.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/status_matchers.h"
#include "robustness/datasets/in_memory_dataset.h"

namespace robustness {
namespace {

using ::testing::ElementsAre;

TEST(SubsetIndices, ZeroMeansEverythingInOrder) {
  EXPECT_THAT(SubsetIndices(4, 0, 9), ElementsAre(0, 1, 2, 3));
}

TEST(SubsetIndices, SortedDistinctSeededSample) {
  std::vector<int64_t> a = SubsetIndices(1000, 100, 5);
  ASSERT_EQ(a.size(), 100u);
  EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
  EXPECT_EQ(std::adjacent_find(a.begin(), a.end()), a.end());
  EXPECT_GE(a.front(), 0);
  EXPECT_LT(a.back(), 1000);
  EXPECT_EQ(a, SubsetIndices(1000, 100, 5));
  EXPECT_NE(a, SubsetIndices(1000, 100, 6));
  EXPECT_THAT(SubsetIndices(3, 3, 5), ElementsAre(0, 1, 2));
}

TEST(SubsetIndicesDeathTest, RejectsSubsetLargerThanDataset) {
  EXPECT_DEATH(SubsetIndices(3, 4, 0), "subset larger");
}

TEST(SubsetDataset, MapsIndicesToBase) {
  torch::Tensor images = torch::arange(5, torch::kUInt8).reshape({5, 1, 1, 1});
  auto base =
      std::make_shared<InMemoryDataset>(images, torch::tensor({0, 1, 2, 0, 1}, torch::kLong), 3);
  SubsetDataset subset(base, {4, 2});

  EXPECT_EQ(subset.size(), 2);
  EXPECT_EQ(subset.num_classes(), 3);
  EXPECT_EQ(subset.Label(0), 1);
  EXPECT_EQ(subset.Label(1), 2);
  ASSERT_THAT(subset.Image(0), IsOk());
  EXPECT_FLOAT_EQ(subset.Image(0)->item<float>(), 4.0f / 255.0f);
}

}  // namespace
}  // namespace robustness
