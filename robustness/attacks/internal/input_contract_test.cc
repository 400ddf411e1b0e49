#include "robustness/attacks/internal/input_contract.h"

#include <torch/types.h>

#include "gtest/gtest.h"

namespace robustness {
namespace attacks_internal {
namespace {

TEST(CheckAttackInputs, AcceptsPixelSpaceImagesAndInt64Labels) {
  CheckAttackInputs(torch::rand({2, 3, 4, 4}), torch::tensor({0L, 1L}));
  CheckAttackInputs(torch::zeros({0, 3, 4, 4}), torch::zeros({0}, torch::kLong));
}

TEST(CheckAttackInputsDeathTest, RejectsNormalisedImages) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // LibTorch may have started threads.
  EXPECT_DEATH(CheckAttackInputs(torch::full({1, 3, 2, 2}, -1.5), torch::tensor({0L})),
               "normalisation belongs inside the model");
}

TEST(CheckAttackInputsDeathTest, RejectsBadShapesAndTypes) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(CheckAttackInputs(torch::rand({3, 4, 4}), torch::tensor({0L})),
               "images must be \\[N, C, H, W\\]");
  EXPECT_DEATH(CheckAttackInputs(torch::rand({2, 1, 4, 4}), torch::tensor({0L})),
               "labels must be \\[N\\] with N = 2");
  EXPECT_DEATH(CheckAttackInputs(torch::rand({1, 1, 4, 4}), torch::tensor({0}, torch::kInt)),
               "labels must be int64");
  EXPECT_DEATH(CheckAttackInputs(torch::ones({1, 1, 4, 4}, torch::kLong), torch::tensor({0L})),
               "images must be floating point");
}

}  // namespace
}  // namespace attacks_internal
}  // namespace robustness
