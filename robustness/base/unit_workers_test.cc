#include "robustness/base/unit_workers.h"

#include <atomic>
#include <stdexcept>
#include <vector>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/status_matchers.h"

namespace robustness {
namespace {

using ::testing::HasSubstr;

TEST(ChooseWorkerLayoutTest, OneWorkerPerThreadOnCpu) {
  auto check = [](int threads, int64_t units, bool cpu, int workers, int per_worker) {
    const WorkerLayout l = ChooseWorkerLayout(threads, units, cpu);
    EXPECT_EQ(l.workers, workers) << threads << " " << units << " " << cpu;
    EXPECT_EQ(l.threads_per_worker, per_worker) << threads << " " << units << " " << cpu;
  };
  check(2, 6, true, 2, 1);
  check(2, 1, true, 1, 2);
  check(2, 0, true, 1, 2);
  check(16, 3, true, 3, 5);
  check(1, 10, true, 1, 1);
  check(8, 10, false, 1, 8);  // an accelerator: one worker
}

TEST(RunUnitsTest, EveryUnitOnceWithTheWorkersThreadCount) {
  const int caller = at::get_num_threads();
  constexpr int64_t kUnits = 37;
  std::vector<std::atomic<int>> calls(kUnits);
  std::vector<int> threads_seen(kUnits, 0);
  ASSERT_THAT(RunUnits({2, 1}, kUnits, [&](int64_t u) {
    calls[u].fetch_add(1);
    threads_seen[u] = at::get_num_threads();
    return absl::OkStatus();
  }), IsOk());
  for (int64_t u = 0; u < kUnits; ++u) {
    EXPECT_EQ(calls[u].load(), 1) << u;
    EXPECT_EQ(threads_seen[u], 1) << u;
  }
  EXPECT_EQ(at::get_num_threads(), caller);  // restored
}

TEST(RunUnitsTest, OneWorkerRunsOnTheCallingThread) {
  const std::thread::id self = std::this_thread::get_id();
  ASSERT_THAT(RunUnits({1, 1}, 3, [&](int64_t) {
    EXPECT_EQ(std::this_thread::get_id(), self);
    return absl::OkStatus();
  }), IsOk());
}

TEST(RunUnitsTest, ReturnsTheLowestFailingUnitAndCatchesExceptions) {
  for (const WorkerLayout layout : {WorkerLayout{1, 1}, WorkerLayout{2, 1}}) {
    const absl::Status status = RunUnits(layout, 10, [](int64_t u) -> absl::Status {
      if (u == 4) return absl::InvalidArgumentError("unit four");
      if (u == 6) throw std::runtime_error("unit six");
      return absl::OkStatus();
    });
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << layout.workers;
    EXPECT_THAT(std::string(status.message()), HasSubstr("unit four"));
  }
  const absl::Status thrown = RunUnits({2, 1}, 3, [](int64_t u) -> absl::Status {
    if (u == 1) throw std::runtime_error("boom");
    return absl::OkStatus();
  });
  EXPECT_EQ(thrown.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(thrown.message()), HasSubstr("unit 1: boom"));
}

// The contract the attacks rely on: a unit's numbers depend on its thread count, not on the
// number of workers (a convolution's input gradient, as an attack step takes it).
TEST(RunUnitsTest, UnitsAreBitIdenticalForAnyNumberOfWorkers) {
  torch::manual_seed(0);
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(3, 16, 3).padding(1));
  torch::nn::Linear fc(16 * 14 * 14, 10);
  constexpr int64_t kUnits = 6;
  std::vector<torch::Tensor> inputs;
  for (int64_t u = 0; u < kUnits; ++u) inputs.push_back(torch::rand({8, 3, 14, 14}));
  auto run = [&](const WorkerLayout& layout) {
    std::vector<torch::Tensor> out(kUnits);
    EXPECT_THAT(RunUnits(layout, kUnits, [&](int64_t u) {
      torch::Tensor x = inputs[u].clone().requires_grad_(true);
      torch::Tensor loss = fc->forward(torch::relu(conv->forward(x)).flatten(1)).logsumexp(1).sum();
      out[u] = torch::autograd::grad({loss}, {x})[0];
      return absl::OkStatus();
    }), IsOk());
    return out;
  };
  const int caller = at::get_num_threads();
  at::set_num_threads(1);
  const std::vector<torch::Tensor> one = run({1, 1});
  at::set_num_threads(caller);
  const std::vector<torch::Tensor> two = run({2, 1});
  for (int64_t u = 0; u < kUnits; ++u) EXPECT_TRUE(torch::equal(one[u], two[u])) << u;
  EXPECT_FALSE(conv->weight.grad().defined());
}

}  // namespace
}  // namespace robustness
