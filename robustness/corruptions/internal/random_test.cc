#include "robustness/corruptions/internal/random.h"

#include <algorithm>

#include <cmath>
#include <vector>

#include "gtest/gtest.h"
#include "robustness/corruptions/internal/ops.h"

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

// The four-lane sampler: the ziggurat's moments and tails, the AVX2 path (where the CPU has
// it) equal to the portable one value for value at every length's tail, and the stream left
// in the same place.
TEST(Random, FillNormalLanesIsNormalAndPortable) {
  constexpr int kN = 2000000;
  std::vector<float> a(kN);
  Random random(11);
  random.FillNormalLanes(0.0, 1.0, a.data(), kN);
  double sum = 0, sum2 = 0, sum4 = 0;
  int beyond2 = 0, beyond_r = 0;
  for (float v : a) {
    const double x = v;
    sum += x;
    sum2 += x * x;
    sum4 += x * x * x * x;
    beyond2 += std::fabs(x) > 2;
    beyond_r += std::fabs(x) > 3.6541528853610088;
  }
  EXPECT_NEAR(sum / kN, 0.0, 0.003);
  EXPECT_NEAR(sum2 / kN, 1.0, 0.004);
  EXPECT_NEAR(sum4 / kN, 3.0, 0.03);
  EXPECT_NEAR(beyond2 / static_cast<double>(kN), 0.0455003, 0.0005);
  EXPECT_NEAR(beyond_r / static_cast<double>(kN), 2.58e-4, 0.4e-4);
  // Neighbouring values come from different lanes: no correlation between them.
  double lag1 = 0;
  for (int i = 1; i < kN; ++i) lag1 += static_cast<double>(a[i]) * a[i - 1];
  EXPECT_NEAR(lag1 / kN, 0.0, 0.003);
  for (int n : {1, 2, 3, 4, 5, 7, 1000, 1001, 50177}) {
    Random x(n), y(n);
    std::vector<float> fast(n), portable(n);
    x.FillNormalLanes(0.65, 0.3, fast.data(), n);
    y.FillNormalLanesPortable(0.65, 0.3, portable.data(), n);
    for (int i = 0; i < n; ++i) ASSERT_EQ(fast[i], portable[i]) << n << " " << i;
    EXPECT_EQ(x.Next(), y.Next()) << n;
  }
}

// The four-lane uniforms: in [0, 1) on the 2^-52 grid, uniform (mean, variance, deciles), no
// lag-1 correlation, and the AVX2 path equal to the portable one at every length's tail.
TEST(Random, FillUniformLanesIsUniformAndPortable) {
  constexpr int kN = 1000000;
  std::vector<double> a(kN);
  Random random(12);
  random.FillUniformLanes(a.data(), kN);
  double sum = 0, sum2 = 0, lag1 = 0;
  int deciles[10] = {};
  for (int i = 0; i < kN; ++i) {
    ASSERT_GE(a[i], 0.0);
    ASSERT_LT(a[i], 1.0);
    ASSERT_EQ(a[i], std::ldexp(std::floor(std::ldexp(a[i], 52)), -52)) << i;
    sum += a[i];
    sum2 += a[i] * a[i];
    if (i > 0) lag1 += (a[i] - 0.5) * (a[i - 1] - 0.5);
    ++deciles[static_cast<int>(a[i] * 10)];
  }
  EXPECT_NEAR(sum / kN, 0.5, 0.002);
  EXPECT_NEAR(sum2 / kN - 0.25, 1.0 / 12, 0.001);
  EXPECT_NEAR(lag1 / kN, 0.0, 0.0005);
  for (int d : deciles) EXPECT_NEAR(d, kN / 10, 1000);
  for (int n : {1, 3, 4, 6, 65535}) {
    Random x(n), y(n);
    std::vector<double> fast(n), portable(n);
    x.FillUniformLanes(fast.data(), n);
    y.FillUniformLanesPortable(portable.data(), n);
    for (int i = 0; i < n; ++i) ASSERT_EQ(fast[i], portable[i]) << n << " " << i;
    EXPECT_EQ(x.Next(), y.Next()) << n;
  }
}

// The level tables of gaussian and shot noise against direct simulation / the exact expectation.
TEST(Random, NoiseLevelTablesMatchTheirDefinitions) {
  Uint8Image flat(1, 200, 200, 128);
  Random random(4), direct(5);
  const Uint8Image g = GaussianNoise(flat, {0.1}, &random);
  double sum = 0, sum2 = 0, dsum = 0, dsum2 = 0;
  for (uint8_t v : g.data) {
    sum += v;
    sum2 += double(v) * v;
    const double d = std::floor(std::clamp(128 + 25.5 * direct.Normal(), 0.0, 255.0));
    dsum += d;
    dsum2 += d * d;
  }
  const double n = g.data.size();
  EXPECT_NEAR(sum / n, dsum / n, 0.3);
  EXPECT_NEAR(std::sqrt(sum2 / n - sum * sum / n / n), std::sqrt(dsum2 / n - dsum * dsum / n / n),
              0.3);
  // Shot noise, v = 100, c = 12: E[trunc(min(K / 12, 1) 255)], K ~ Poisson(100 / 255 x 12).
  const double lambda = 100.0 / 255 * 12;
  double expected = 0;
  for (int k = 0; k < 80; ++k) {
    const double mass = std::exp(k * std::log(lambda) - lambda - std::lgamma(k + 1.0));
    expected += mass * std::floor(std::min(k / 12.0, 1.0) * 255 + 1e-6);
  }
  Uint8Image level(1, 200, 200, 100);
  const Uint8Image shot = ShotNoise(level, {12}, &random);
  double mean = 0;
  for (uint8_t v : shot.data) mean += v;
  EXPECT_NEAR(mean / n, expected, 0.5);
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
