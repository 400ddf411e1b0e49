// ToPlanesF and the Truncate* functions: their AVX-512 kernels against the portable loops on the
// values that matter (every byte; clamps' edges, NaN, values a hair around each level), and the
// truncation's own contract.
#include "robustness/corruptions/internal/planes.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "robustness/augmentation/uint8_image.h"

namespace robustness::corruptions_internal {
namespace {

template <typename T>
BasicPlanes<T> EdgeValues(double unit, int64_t width) {
  std::vector<T> values = {T(0), T(-0.0), T(-1e-9), T(-5), std::numeric_limits<T>::quiet_NaN(),
                           std::numeric_limits<T>::infinity(),
                           -std::numeric_limits<T>::infinity(), T(1e30)};
  for (int level = 0; level <= 256; ++level) {
    const T v = static_cast<T>(level * unit);
    values.push_back(v);
    values.push_back(std::nextafter(v, T(-1)));
    values.push_back(std::nextafter(v, T(1e9)));
  }
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> spread(-0.1 * unit, 256.1 * unit);
  while (values.size() % width != 0 || values.size() < 4000) {
    values.push_back(static_cast<T>(spread(rng)));
  }
  BasicPlanes<T> x(1, static_cast<int64_t>(values.size()) / width, width);
  x.v.assign(values.begin(), values.end());
  return x;
}

TEST(Planes, Avx512TruncationEqualsThePortableLoop) {
  for (const int64_t width : {1, 7, 16, 37}) {  // tails after the 16-value steps
    const PlanesF unit_f = EdgeValues<float>(1.0 / 255.0, width);
    const PlanesF levels_f = EdgeValues<float>(1.0, width);
    const Planes unit_d = EdgeValues<double>(1.0 / 255.0, width);
    const Planes levels_d = EdgeValues<double>(1.0, width);
    SetPlanesAvx512AllowedForTesting(false);
    const Uint8Image a = TruncateUnit(unit_f), b = Truncate255(levels_f);
    const Uint8Image c = TruncateUnit(unit_d), d = Truncate255(levels_d);
    SetPlanesAvx512AllowedForTesting(true);
    EXPECT_EQ(TruncateUnit(unit_f).data, a.data) << width;
    EXPECT_EQ(Truncate255(levels_f).data, b.data) << width;
    EXPECT_EQ(TruncateUnit(unit_d).data, c.data) << width;
    EXPECT_EQ(Truncate255(levels_d).data, d.data) << width;
  }
}

TEST(Planes, Avx512ToPlanesFEqualsThePortableLoop) {
  Uint8Image image(3, 11, 29);  // 957 values: 59 steps of 16 and a tail
  for (size_t i = 0; i < image.data.size(); ++i) image.data[i] = static_cast<uint8_t>(i * 7);
  for (const double scale : {1.0 / 255.0, 1.0, 0.3, -2.5e-3}) {
    SetPlanesAvx512AllowedForTesting(false);
    const PlanesF portable = ToPlanesF(image, scale);
    SetPlanesAvx512AllowedForTesting(true);
    const PlanesF fast = ToPlanesF(image, scale);
    ASSERT_EQ(fast.v.size(), portable.v.size());
    for (size_t i = 0; i < fast.v.size(); ++i) {
      ASSERT_EQ(fast.v[i], portable.v[i]) << scale << " at " << i;
      ASSERT_EQ(fast.v[i], static_cast<float>(image.data[i] * scale)) << scale << " at " << i;
    }
  }
}

TEST(Planes, TruncationClipsScalesAndTruncates) {
  PlanesF x(1, 1, 6);
  x.v = {-0.5f, 0.0f, 0.5f, 1.0f, 2.0f, std::numeric_limits<float>::quiet_NaN()};
  const Uint8Image out = TruncateUnit(x);
  EXPECT_EQ(out.data, (std::vector<uint8_t>{0, 0, 127, 255, 255, 0}));
  for (int level = 0; level < 256; ++level) {  // identity for exact levels, thanks to the guard
    PlanesF one(1, 1, 1);
    one.v[0] = static_cast<float>(level / 255.0);
    EXPECT_EQ(TruncateUnit(one).data[0], level);
  }
}

}  // namespace
}  // namespace robustness::corruptions_internal
