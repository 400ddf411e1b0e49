#include "robustness/augmentation/random_erasing.h"

#include "gtest/gtest.h"
#include "robustness/base/scalar_random.h"

namespace robustness {
namespace {

RandomErasingOptions Options(RandomErasingOptions::Mode mode, double p) {
  RandomErasingOptions o;
  o.probability = p;
  o.mode = mode;
  o.mean = {0.5f, 0.25f};
  o.std = {0.2f, 0.1f};
  return o;
}

TEST(RandomErasing, ProbabilityZeroIsIdentityAndOneAlwaysErases) {
  const torch::Tensor image = torch::rand({2, 20, 24});
  for (uint64_t seed = 0; seed < 20; ++seed) {
    ScalarRandom r(seed);
    EXPECT_TRUE(RandomErasing(image, Options(RandomErasingOptions::Mode::kConst, 0.0), r)
                    .is_same(image));
    ScalarRandom s(seed);
    EXPECT_FALSE(torch::equal(
        RandomErasing(image, Options(RandomErasingOptions::Mode::kConst, 1.0), s), image));
  }
}

TEST(RandomErasing, ConstFillIsTheMeanAndTheBoxIsARectangleInRange) {
  const torch::Tensor image = torch::full({2, 20, 24}, 2.0f);  // outside any fill value
  for (uint64_t seed = 0; seed < 50; ++seed) {
    ScalarRandom r(seed);
    const torch::Tensor out =
        RandomErasing(image, Options(RandomErasingOptions::Mode::kConst, 1.0), r);
    const torch::Tensor erased = out[0].ne(2.0f);
    const int64_t n = erased.sum().item<int64_t>();
    ASSERT_GT(n, 0);
    // Area in [0.02, 1/3] of the image (rounding of h and w allows a little more).
    EXPECT_GE(n, 0.02 * 480 * 0.6);
    EXPECT_LE(n, 480.0 / 3 * 1.4);
    const torch::Tensor rows = erased.any(1).nonzero(), cols = erased.any(0).nonzero();
    const int64_t h = rows.size(0), w = cols.size(0);
    EXPECT_EQ(h * w, n) << "not one rectangle";
    EXPECT_LT(h, 20);  // strict bounds, as timm
    EXPECT_LT(w, 24);
    EXPECT_TRUE(torch::allclose(out[0].masked_select(erased), torch::full({n}, 0.5f)));
    EXPECT_TRUE(torch::allclose(out[1].masked_select(erased), torch::full({n}, 0.25f)));
  }
}

TEST(RandomErasing, PixelFillIsNormalInTheNormalisedSpace) {
  const torch::Tensor image = torch::full({2, 64, 64}, 2.0f);
  std::vector<float> normalised;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    ScalarRandom r(seed);
    const torch::Tensor out =
        RandomErasing(image, Options(RandomErasingOptions::Mode::kPixel, 1.0), r);
    const torch::Tensor v = (out[0].masked_select(out[0].ne(2.0f)) - 0.5f) / 0.2f;
    for (int64_t i = 0; i < v.size(0); ++i) normalised.push_back(v[i].item<float>());
  }
  const torch::Tensor all = torch::tensor(normalised);
  EXPECT_NEAR(all.mean().item<float>(), 0.0, 0.02);
  EXPECT_NEAR(all.std().item<float>(), 1.0, 0.02);
}

TEST(RandomErasing, SameSeedSameResultAndCountsGiveUpToThatManyBoxes) {
  const torch::Tensor image = torch::rand({2, 30, 30});
  RandomErasingOptions o = Options(RandomErasingOptions::Mode::kRand, 1.0);
  o.min_count = 1;
  o.max_count = 3;
  ScalarRandom a(9), b(9);
  EXPECT_TRUE(torch::equal(RandomErasing(image, o, a), RandomErasing(image, o, b)));
}

}  // namespace
}  // namespace robustness
