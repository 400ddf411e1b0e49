#include "robustness/base/seed.h"

#include <ATen/ATen.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include "gtest/gtest.h"

namespace robustness {
namespace {

TEST(DeriveSeed, DependsOnEveryPathElement) {
  EXPECT_EQ(DeriveSeed(7, {1, 2}), DeriveSeed(7, {1, 2}));
  EXPECT_NE(DeriveSeed(7, {1, 2}), DeriveSeed(7, {2, 1}));
  EXPECT_NE(DeriveSeed(7, {1, 2}), DeriveSeed(8, {1, 2}));
  EXPECT_NE(DeriveSeed(7, {1}), DeriveSeed(7, {1, 0}));
}

TEST(MakeCpuGenerator, SameSeedSameStream) {
  at::Generator a = MakeCpuGenerator(42);
  at::Generator b = MakeCpuGenerator(42);
  at::Tensor x = at::rand({16}, a);
  at::Tensor y = at::rand({16}, b);
  EXPECT_TRUE(at::equal(x, y));
  EXPECT_FALSE(at::equal(at::rand({16}, a), x));
}

TEST(ConfigureRuntime, SetsThreadsAndSeed) {
  EXPECT_EQ(ConfigureRuntime(3, 2), 2);
  at::Tensor x = at::randn({8});
  ConfigureRuntime(3, 1);
  EXPECT_TRUE(at::equal(at::randn({8}), x));
  EXPECT_GE(ConfigureRuntime(3, 0), 1);
}

}  // namespace
}  // namespace robustness

namespace robustness {
namespace {

TEST(MakeGenerator, CpuIsMakeCpuGenerator) {
  at::Generator a = MakeGenerator(42, c10::Device(c10::kCPU));
  at::Generator b = MakeCpuGenerator(42);
  EXPECT_TRUE(torch::equal(torch::rand({16}, a), torch::rand({16}, b)));
}

// On a CUDA LibTorch with a GPU: a generator the attacks can use on the images' device, seeded
// independently of the default one. Skipped elsewhere.
TEST(MakeGenerator, CudaGeneratorDrawsOnTheDevice) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const c10::Device cuda(c10::kCUDA, 0);
  at::Generator a = MakeGenerator(7, cuda), b = MakeGenerator(7, cuda);
  const auto options = torch::TensorOptions().device(cuda);
  EXPECT_TRUE(torch::equal(torch::rand({16}, a, options), torch::rand({16}, b, options)));
}

}  // namespace
}  // namespace robustness
