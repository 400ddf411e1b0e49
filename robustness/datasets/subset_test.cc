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

// Dataset::ImageRegion's default (decode whole, cut, quantise) through a subset, which forwards to
// its base: exactly the stored bytes inside the box, and the chooser sees the image's size.
TEST(SubsetDataset, ImageRegionIsTheBasesStoredBytesInsideTheBox) {
  at::manual_seed(2);
  const torch::Tensor images = at::randint(0, 256, {3, 2, 5, 7}, at::kByte);
  auto base = std::make_shared<InMemoryDataset>(images, torch::tensor({0, 1, 0}, torch::kLong), 2);
  SubsetDataset subset(base, {2, 0});
  int64_t seen_h = 0, seen_w = 0;
  absl::StatusOr<torch::Tensor> region = subset.ImageRegion(0, [&](int64_t h, int64_t w) {
    seen_h = h;
    seen_w = w;
    return PixelBox{1, 2, 3, 4};
  });
  ASSERT_THAT(region, IsOk());
  EXPECT_EQ(seen_h, 5);
  EXPECT_EQ(seen_w, 7);
  ASSERT_EQ(region->scalar_type(), at::kByte);
  EXPECT_TRUE(at::equal(*region, images[2].narrow(1, 1, 3).narrow(2, 2, 4)));
}

}  // namespace
}  // namespace robustness
