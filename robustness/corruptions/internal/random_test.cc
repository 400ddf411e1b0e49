#include "robustness/corruptions/internal/random.h"

#include <cmath>

#include "gtest/gtest.h"

namespace robustness::corruptions_internal {
namespace {

TEST(Random, ZigguratNormalHasUnitMomentsAndGaussianTails) {
  Random random(1);
  constexpr int kN = 2000000;
  double sum = 0, sum2 = 0, sum4 = 0;
  int beyond2 = 0, beyond_r = 0;
  for (int i = 0; i < kN; ++i) {
    const double x = random.Normal();
    sum += x;
    sum2 += x * x;
    sum4 += x * x * x * x;
    beyond2 += std::fabs(x) > 2;
    beyond_r += std::fabs(x) > 3.6541528853610088;  // the ziggurat's tail layer
  }
  EXPECT_NEAR(sum / kN, 0.0, 0.003);
  EXPECT_NEAR(sum2 / kN, 1.0, 0.004);
  EXPECT_NEAR(sum4 / kN, 3.0, 0.03);
  EXPECT_NEAR(beyond2 / static_cast<double>(kN), 0.0455003, 0.0005);
  EXPECT_NEAR(beyond_r / static_cast<double>(kN), 2.58e-4, 0.4e-4);
}

TEST(Random, PoissonTablesMatchTheDirectSampler) {
  Random random(2);
  for (double c : {3.0, 12.0, 60.0, 500.0}) {
    const PoissonTables tables(c / 255.0);
    for (int level : {0, 1, 77, 255}) {
      const double lambda = level * c / 255.0;
      constexpr int kN = 200000;
      double sum = 0, sum2 = 0, direct = 0;
      for (int i = 0; i < kN; ++i) {
        const double k = static_cast<double>(tables.Sample(level, &random));
        sum += k;
        sum2 += k * k;
        direct += static_cast<double>(random.Poisson(lambda));
      }
      const double mean = sum / kN, var = sum2 / kN - mean * mean;
      const double tolerance = 5 * std::sqrt(std::max(lambda, 1e-3) / kN) + 1e-9;
      EXPECT_NEAR(mean, lambda, tolerance) << c << " " << level;
      EXPECT_NEAR(direct / kN, lambda, tolerance) << c << " " << level;
      EXPECT_NEAR(var, lambda, 0.03 * lambda + 1e-9) << c << " " << level;
    }
  }
}

TEST(Random, RandIntExcludesTheUpperBound) {
  Random random(3);
  int counts[4] = {0, 0, 0, 0};
  for (int i = 0; i < 40000; ++i) {
    const int64_t v = random.RandInt(-2, 2);
    ASSERT_GE(v, -2);
    ASSERT_LT(v, 2);
    ++counts[v + 2];
  }
  for (int c : counts) EXPECT_NEAR(c, 10000, 500);
  EXPECT_EQ(random.RandInt(5, 5), 5);
}

}  // namespace
}  // namespace robustness::corruptions_internal
