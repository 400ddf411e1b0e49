#include "robustness/datasets/shared_batches.h"

#include <memory>
#include <numeric>
#include <thread>
#include <vector>

#include <torch/torch.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/status_matchers.h"
#include "robustness/datasets/in_memory_dataset.h"

namespace robustness {
namespace {

std::shared_ptr<InMemoryDataset> Data(int64_t n) {
  return std::make_shared<InMemoryDataset>(torch::zeros({n, 1, 2, 2}, torch::kByte),
                                           torch::arange(n, torch::kLong), n);
}

std::vector<int64_t> Order(int64_t n) {
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  return order;
}

TEST(SharedBatches, ReadsInOrderOnceAndSharesEachBatch) {
  BatchLoader loader(Data(10), Order(10), 3, ImageTransform(), 0, 1, false);
  int loads = 0;
  SharedBatches batches(loader, 2, [&](Batch& b) {
    ++loads;
    b.labels = b.labels * 10;  // on_load's change is what every user sees
    return absl::OkStatus();
  });
  ASSERT_EQ(batches.num_batches(), 4);
  absl::StatusOr<Batch> third = batches.Get(2);  // reads 0, 1 and 2
  ASSERT_THAT(third, IsOk());
  EXPECT_EQ(loads, 3);
  EXPECT_EQ(third->labels[0].item<int64_t>(), 60);
  absl::StatusOr<Batch> first = batches.Get(0);
  ASSERT_THAT(first, IsOk());
  EXPECT_EQ(first->labels[2].item<int64_t>(), 20);
  absl::StatusOr<Batch> last = batches.Get(3);
  ASSERT_THAT(last, IsOk());
  EXPECT_EQ(last->labels.size(0), 1);
  EXPECT_EQ(loads, 4);
  batches.Release(0);
  batches.Release(0);  // two uses: now dropped
  EXPECT_DEATH(batches.Get(0).IgnoreError(), "was released");
}

TEST(SharedBatches, SeveralThreads) {
  BatchLoader loader(Data(100), Order(100), 7, ImageTransform(), 0, 1, false);
  SharedBatches batches(loader, 1, nullptr);
  std::vector<int64_t> sums(batches.num_batches(), -1);
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (int64_t b = t; b < batches.num_batches(); b += 3) {
        absl::StatusOr<Batch> batch = batches.Get(b);
        ASSERT_TRUE(batch.ok());
        sums[b] = batch->labels.sum().item<int64_t>();
        batches.Release(b);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int64_t b = 0; b < batches.num_batches(); ++b) {
    const int64_t lo = 7 * b, hi = std::min<int64_t>(100, lo + 7);
    EXPECT_EQ(sums[b], (lo + hi - 1) * (hi - lo) / 2) << b;
  }
}

TEST(SharedBatches, ALoadErrorReachesEveryLaterCaller) {
  BatchLoader loader(Data(6), Order(6), 2, ImageTransform(), 0, 1, false);
  SharedBatches batches(loader, 1, [](Batch& b) -> absl::Status {
    if (b.labels[0].item<int64_t>() == 2) return absl::DataLossError("bad batch");
    return absl::OkStatus();
  });
  EXPECT_THAT(batches.Get(0), IsOk());
  EXPECT_THAT(batches.Get(2), StatusIs(absl::StatusCode::kDataLoss, ::testing::HasSubstr("bad")));
  EXPECT_THAT(batches.Get(1), StatusIs(absl::StatusCode::kDataLoss, ::testing::HasSubstr("bad")));
}

}  // namespace
}  // namespace robustness
