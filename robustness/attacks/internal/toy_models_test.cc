#include "robustness/attacks/internal/toy_models.h"

#include <torch/types.h>

#include "gtest/gtest.h"

namespace robustness {
namespace attacks_internal {
namespace {

TEST(LinearClassifier, SeededLogitsAndDropoutOnlyInTraining) {
  LinearClassifier a(4, 3, /*seed=*/5), b(4, 3, /*seed=*/5);
  torch::Tensor x = torch::rand({2, 1, 2, 2});
  a.eval();
  b.eval();
  EXPECT_EQ(a.forward(x).sizes(), torch::IntArrayRef({2, 3}));
  EXPECT_TRUE(torch::equal(a.forward(x), b.forward(x)));
  a.train();
  EXPECT_FALSE(torch::equal(a.forward(x), b.forward(x)));
}

TEST(SmallConvNet, MapsImagesToLogits) {
  SmallConvNet net(/*channels=*/1, /*image_size=*/28, /*num_classes=*/10, /*seed=*/5);
  net.eval();
  EXPECT_EQ(net.forward(torch::rand({3, 1, 28, 28})).sizes(), torch::IntArrayRef({3, 10}));
}

}  // namespace
}  // namespace attacks_internal
}  // namespace robustness
