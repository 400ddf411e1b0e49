#include "robustness/augmentation/pad_crop.h"

#include <ATen/ATen.h>

#include "gtest/gtest.h"
#include "robustness/base/seed.h"

namespace robustness {
namespace {

TEST(PadCrop, KeepsShapeAndTakesValuesFromImageOrZeros) {
  // Distinct positive values, so every output value identifies its source pixel.
  at::Tensor image = at::arange(1, 2 * 5 * 6 + 1, at::kFloat).reshape({2, 5, 6}).div_(100.0);
  at::Generator generator = MakeCpuGenerator(1);
  for (int trial = 0; trial < 20; ++trial) {
    at::Tensor out = PadCrop(image, 3, generator);
    ASSERT_EQ(out.sizes(), image.sizes());
    at::Tensor nonzero = out.masked_select(out != 0);
    EXPECT_TRUE(at::isin(nonzero, image).all().item<bool>());
    // A crop is a shift: the source of output (0, 0) determines all others.
    at::Tensor shifted = at::constant_pad_nd(image, {3, 3, 3, 3}, 0.0);
    bool found = false;
    for (int64_t i = 0; i <= 6 && !found; ++i) {
      for (int64_t j = 0; j <= 6 && !found; ++j) {
        found = at::equal(shifted.narrow(1, i, 5).narrow(2, j, 6), out);
      }
    }
    EXPECT_TRUE(found) << "trial " << trial;
  }
}

TEST(PadCrop, SameSeedSameCropAndZeroPaddingIsIdentity) {
  at::Tensor image = at::rand({1, 4, 4}, MakeCpuGenerator(0));
  at::Generator a = MakeCpuGenerator(7);
  at::Generator b = MakeCpuGenerator(7);
  EXPECT_TRUE(at::equal(PadCrop(image, 2, a), PadCrop(image, 2, b)));
  at::Generator c = MakeCpuGenerator(7);
  EXPECT_TRUE(at::equal(PadCrop(image, 0, c), image));
}

}  // namespace
}  // namespace robustness
