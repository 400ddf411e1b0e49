#include "robustness/augmentation/random_resized_crop.h"

#include <ATen/ATen.h>

#include "gtest/gtest.h"
#include "robustness/base/seed.h"

namespace robustness {
namespace {

constexpr RandomResizedCropOptions kPaper = {8, 0.08, 1.0, 3.0 / 4.0, 4.0 / 3.0};

TEST(RandomResizedCrop, OutputHasSizeAndStaysInUnitRange) {
  at::Generator generator = MakeCpuGenerator(3);
  at::Tensor image = at::rand({3, 20, 13}, generator);
  for (int trial = 0; trial < 10; ++trial) {
    at::Tensor out = RandomResizedCrop(image, kPaper, generator);
    ASSERT_EQ(out.sizes(), at::IntArrayRef({3, 8, 8}));
    EXPECT_GE(out.min().item<float>(), 0.0f);
    EXPECT_LE(out.max().item<float>(), 1.0f);
  }
}

TEST(RandomResizedCrop, SameSeedSameOutput) {
  at::Tensor image = at::rand({1, 16, 16}, MakeCpuGenerator(0));
  at::Generator a = MakeCpuGenerator(11);
  at::Generator b = MakeCpuGenerator(11);
  EXPECT_TRUE(at::equal(RandomResizedCrop(image, kPaper, a), RandomResizedCrop(image, kPaper, b)));
}

TEST(SampleResizedCropBox, BoxesLieInsideWithAllowedAreaAndRatio) {
  at::Generator generator = MakeCpuGenerator(5);
  for (int trial = 0; trial < 50; ++trial) {
    const CropBox box = SampleResizedCropBox(100, 60, {8, 0.25, 0.5, 0.5, 2.0}, generator);
    EXPECT_GE(box.top, 0);
    EXPECT_GE(box.left, 0);
    EXPECT_LE(box.top + box.height, 100);
    EXPECT_LE(box.left + box.width, 60);
    const double fraction = static_cast<double>(box.height * box.width) / (100 * 60);
    EXPECT_GT(fraction, 0.2);
    EXPECT_LT(fraction, 0.55);
  }
}

TEST(SampleResizedCropBox, FallsBackToCentreCropClampedToRatio) {
  at::Generator generator = MakeCpuGenerator(5);
  // A 1 x 40 strip can never hold a crop with ratio in [1, 1] of area >= 50%: fallback.
  const CropBox box = SampleResizedCropBox(1, 40, {4, 0.5, 1.0, 1.0, 1.0}, generator);
  EXPECT_EQ(box.height, 1);
  EXPECT_EQ(box.width, 1);
  EXPECT_EQ(box.top, 0);
  EXPECT_EQ(box.left, 19);
}

}  // namespace
}  // namespace robustness
