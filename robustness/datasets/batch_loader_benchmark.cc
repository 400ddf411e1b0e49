// Throughput of the Fashion-MNIST training input pipeline: batches of 128 [1, 28, 28] images with
// PadCrop(4) + RandomHorizontalFlip, built by 1 or 2 loader threads.
//
//   bazel run -c opt //robustness/datasets:batch_loader_benchmark
#include <memory>
#include <vector>

#include <ATen/ATen.h>

#include "benchmark/benchmark.h"
#include "glog/logging.h"
#include "robustness/augmentation/horizontal_flip.h"
#include "robustness/augmentation/pad_crop.h"
#include "robustness/base/seed.h"
#include "robustness/datasets/batch_loader.h"
#include "robustness/datasets/in_memory_dataset.h"

namespace robustness {
namespace {

constexpr int kBatchSize = 128;
constexpr int64_t kImages = 4096;

std::shared_ptr<const Dataset> FashionMnistShaped() {
  at::manual_seed(0);
  return std::make_shared<InMemoryDataset>(at::randint(0, 256, {kImages, 1, 28, 28}, at::kByte),
                                           at::randint(0, 10, {kImages}, at::kLong), 10);
}

at::Tensor PadCropFlip(const at::Tensor& image, uint64_t seed) {
  at::Generator generator = MakeCpuGenerator(seed);
  return RandomHorizontalFlip(PadCrop(image, 4, generator), generator);
}

void BM_BatchLoader_FashionMnistPadCropFlip(benchmark::State& state) {
  const int num_threads = static_cast<int>(state.range(0));
  std::shared_ptr<const Dataset> data = FashionMnistShaped();
  int64_t epoch = 0;
  auto loader = std::make_unique<BatchLoader>(data, EpochOrder(kImages, 1, epoch), kBatchSize,
                                              PadCropFlip, 2, num_threads, /*drop_last=*/true);
  {
    absl::StatusOr<Batch> batch = loader->Next();
    CHECK(batch.ok()) << batch.status();
    CHECK_EQ(batch->images.sizes(), at::IntArrayRef({kBatchSize, 1, 28, 28}));
    CHECK_EQ(batch->labels.sizes(), at::IntArrayRef({kBatchSize}));
  }
  for (auto _ : state) {
    absl::StatusOr<Batch> batch = loader->Next();
    if (absl::IsOutOfRange(batch.status())) {
      state.PauseTiming();
      loader = std::make_unique<BatchLoader>(data, EpochOrder(kImages, 1, ++epoch), kBatchSize,
                                             PadCropFlip, 2, num_threads, /*drop_last=*/true);
      state.ResumeTiming();
      batch = loader->Next();
    }
    CHECK(batch.ok()) << batch.status();
    benchmark::DoNotOptimize(batch->images.data_ptr<float>());
  }
  state.SetItemsProcessed(state.iterations() * kBatchSize);
}
BENCHMARK(BM_BatchLoader_FashionMnistPadCropFlip)->Arg(1)->Arg(2)->UseRealTime();

}  // namespace
}  // namespace robustness

// main(): robustness/base/benchmark_main.cc.
