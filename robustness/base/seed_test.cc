#include "robustness/base/seed.h"

#include <ATen/ATen.h>

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
