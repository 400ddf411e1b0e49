#include "robustness/augmentation/horizontal_flip.h"

#include <ATen/ATen.h>

#include "gtest/gtest.h"
#include "robustness/base/seed.h"

namespace robustness {
namespace {

TEST(RandomHorizontalFlip, IsExactFlipOrIdentityBothOccurring) {
  at::Tensor image = at::rand({3, 2, 5}, MakeCpuGenerator(0));
  at::Tensor mirrored = image.index_select(2, at::arange(4, -1, -1, at::kLong));
  at::Generator generator = MakeCpuGenerator(1);
  int flips = 0;
  for (int trial = 0; trial < 200; ++trial) {
    at::Tensor out = RandomHorizontalFlip(image, generator);
    const bool flipped = at::equal(out, mirrored);
    EXPECT_TRUE(flipped || at::equal(out, image));
    flips += flipped;
  }
  EXPECT_GT(flips, 70);
  EXPECT_LT(flips, 130);
}

TEST(RandomHorizontalFlip, SameSeedSameOutput) {
  at::Tensor image = at::rand({1, 3, 3}, MakeCpuGenerator(0));
  for (uint64_t seed = 0; seed < 8; ++seed) {
    at::Generator a = MakeCpuGenerator(seed);
    at::Generator b = MakeCpuGenerator(seed);
    EXPECT_TRUE(at::equal(RandomHorizontalFlip(image, a), RandomHorizontalFlip(image, b)));
  }
}

}  // namespace
}  // namespace robustness
