#include "robustness/datasets/batch_loader.h"

#include <algorithm>
#include <memory>
#include <numeric>
#include <vector>

#include <ATen/ATen.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/seed.h"
#include "robustness/base/status_matchers.h"
#include "robustness/datasets/in_memory_dataset.h"

namespace robustness {
namespace {

using ::testing::HasSubstr;

std::shared_ptr<const Dataset> TinyDataset(int64_t n) {
  at::manual_seed(0);
  return std::make_shared<InMemoryDataset>(at::randint(0, 256, {n, 1, 3, 3}, at::kByte),
                                           at::arange(n, at::kLong).remainder(4), 4);
}

// Adds seeded noise, so batches differ unless each image gets the same seed.
at::Tensor AddNoise(const at::Tensor& image, uint64_t seed) {
  at::Generator generator = MakeCpuGenerator(seed);
  return image + at::rand(image.sizes(), generator);
}

std::vector<Batch> Drain(BatchLoader& loader) {
  std::vector<Batch> batches;
  for (absl::StatusOr<Batch> b = loader.Next(); b.ok(); b = loader.Next()) batches.push_back(*b);
  return batches;
}

TEST(BatchLoader, SameBatchesWithOneAndThreeThreads) {
  std::shared_ptr<const Dataset> data = TinyDataset(10);
  BatchLoader one(data, EpochOrder(10, 5, 0), 4, AddNoise, 9, 1, /*drop_last=*/false);
  BatchLoader three(data, EpochOrder(10, 5, 0), 4, AddNoise, 9, 3, /*drop_last=*/false);
  std::vector<Batch> a = Drain(one);
  std::vector<Batch> b = Drain(three);
  ASSERT_EQ(a.size(), 3u);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(a[2].images.sizes(), at::IntArrayRef({2, 1, 3, 3}));
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(at::equal(a[i].images, b[i].images)) << "batch " << i;
    EXPECT_TRUE(at::equal(a[i].labels, b[i].labels)) << "batch " << i;
  }
}

TEST(BatchLoader, FollowsTheOrderAndEndsWithOutOfRange) {
  std::shared_ptr<const Dataset> data = TinyDataset(5);
  BatchLoader loader(data, {4, 1, 2, 0, 3}, 2, nullptr, 0, 2, /*drop_last=*/true);
  EXPECT_EQ(loader.num_batches(), 2);
  absl::StatusOr<Batch> first = loader.Next();
  ASSERT_THAT(first, IsOk());
  EXPECT_TRUE(at::equal(first->images[0], *data->Image(4)));
  EXPECT_TRUE(at::equal(first->labels, at::tensor({0, 1}, at::kLong)));
  ASSERT_THAT(loader.Next(), IsOk());
  EXPECT_THAT(loader.Next(), StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("2 batches")));
}

// Fails for one example, as a corrupt file would.
class FailingDataset : public Dataset {
 public:
  int64_t size() const override { return 6; }
  int64_t num_classes() const override { return 2; }
  absl::StatusOr<torch::Tensor> Image(int64_t index) const override {
    if (index == 3) return absl::DataLossError("example 3 is corrupt");
    return at::zeros({1, 2, 2});
  }
  int64_t Label(int64_t index) const override { return index % 2; }
};

TEST(BatchLoader, PropagatesADecodeError) {
  BatchLoader loader(std::make_shared<FailingDataset>(), {0, 1, 2, 3, 4, 5}, 2, nullptr, 0, 3,
                     /*drop_last=*/false);
  EXPECT_THAT(loader.Next(), IsOk());
  EXPECT_THAT(loader.Next(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("example 3")));
  EXPECT_THAT(loader.Next(), IsOk());
}

TEST(BatchLoader, RejectsImagesOfDifferentShapes) {
  auto resize_odd = [](const at::Tensor& image, uint64_t seed) {
    return seed % 2 == 0 ? image : at::zeros({1, 5, 5});
  };
  std::shared_ptr<const Dataset> data = TinyDataset(8);
  BatchLoader loader(data, EpochOrder(8, 1, 0), 8, resize_odd, 3, 1, /*drop_last=*/false);
  EXPECT_THAT(loader.Next(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("shape")));
}

TEST(EpochOrder, IsASeededPermutationPerEpoch) {
  std::vector<int64_t> order = EpochOrder(20, 3, 1);
  std::vector<int64_t> sorted = order;
  std::sort(sorted.begin(), sorted.end());
  std::vector<int64_t> all(20);
  std::iota(all.begin(), all.end(), 0);
  EXPECT_EQ(sorted, all);
  EXPECT_EQ(order, EpochOrder(20, 3, 1));
  EXPECT_NE(order, EpochOrder(20, 3, 2));
  EXPECT_NE(order, EpochOrder(20, 4, 1));
}

}  // namespace
}  // namespace robustness
