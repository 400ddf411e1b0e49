#include "robustness/augmentation/resize_center_crop.h"

#include <ATen/ATen.h>

#include "gtest/gtest.h"

namespace robustness {
namespace {

TEST(ResizeShorterSide, KeepsAspectRatioFlooringTheLongerSide) {
  at::manual_seed(0);
  EXPECT_EQ(ResizeShorterSide(at::rand({3, 10, 25}), 4).sizes(), at::IntArrayRef({3, 4, 10}));
  EXPECT_EQ(ResizeShorterSide(at::rand({3, 7, 5}), 3).sizes(), at::IntArrayRef({3, 4, 3}));
}

TEST(ResizeShorterSide, ConstantImageStaysConstant) {
  at::Tensor out = ResizeShorterSide(at::full({1, 6, 9}, 0.25), 4);
  EXPECT_TRUE(at::allclose(out, at::full({1, 4, 6}, 0.25)));
}

TEST(CenterCrop, TakesTheMiddle) {
  at::Tensor image = at::arange(25, at::kFloat).reshape({1, 5, 5});
  at::Tensor out = CenterCrop(image, 3);
  EXPECT_TRUE(at::equal(out, image.narrow(1, 1, 3).narrow(2, 1, 3)));
}

TEST(ResizeCenterCrop, ProducesTheCropSize) {
  at::manual_seed(1);
  EXPECT_EQ(ResizeCenterCrop(at::rand({3, 30, 40}), 16, 14).sizes(), at::IntArrayRef({3, 14, 14}));
}

TEST(ResizeCenterCrop, ZeroConfigReturnsTheInputUnchanged) {
  at::manual_seed(2);
  at::Tensor image = at::rand({1, 28, 28});
  at::Tensor out = ResizeCenterCrop(image, 0, 0);
  EXPECT_TRUE(out.is_same(image));
}

}  // namespace
}  // namespace robustness
