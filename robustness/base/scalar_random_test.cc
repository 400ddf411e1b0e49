#include "robustness/base/scalar_random.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace robustness {
namespace {

TEST(ScalarRandom, SameSeedSameStreamOtherSeedOtherStream) {
  ScalarRandom a(7), b(7), c(8);
  for (int i = 0; i < 100; ++i) {
    const double x = a.Uniform();
    EXPECT_EQ(x, b.Uniform());
    EXPECT_GE(x, 0.0);
    EXPECT_LT(x, 1.0);
  }
  EXPECT_NE(ScalarRandom(7).Uniform(), c.Uniform());
}

TEST(ScalarRandom, UniformIntIsInclusiveAndCoversTheRange) {
  ScalarRandom r(1);
  std::vector<int> count(5, 0);
  for (int i = 0; i < 5000; ++i) {
    const int64_t v = r.UniformInt(2, 6);
    ASSERT_GE(v, 2);
    ASSERT_LE(v, 6);
    ++count[v - 2];
  }
  for (int c : count) EXPECT_NEAR(c, 1000, 150);
  EXPECT_EQ(r.UniformInt(3, 3), 3);
}

TEST(ScalarRandom, GaussHasTheRequestedMoments) {
  ScalarRandom r(3);
  double sum = 0, sq = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const double v = r.Gauss(9.0, 0.5);
    sum += v;
    sq += v * v;
  }
  const double mean = sum / n;
  EXPECT_NEAR(mean, 9.0, 0.02);
  EXPECT_NEAR(std::sqrt(sq / n - mean * mean), 0.5, 0.02);
  EXPECT_EQ(r.Gauss(4.0, 0.0), 4.0);
}

}  // namespace
}  // namespace robustness
