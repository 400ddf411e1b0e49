#include "robustness/corruptions/internal/filters.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace robustness::corruptions_internal {
namespace {

// Whichever clone the CPU picks (AVX2 or the baseline) must give the scalar loop's bits: the
// same terms added in the same order, no FMA.
TEST(Filters, SumOfShiftedRowsEqualsTheScalarSumBitForBit) {
  constexpr int kTaps = 7, kN = 29;  // not a multiple of 8: the tail loop runs too
  std::vector<double> data(kTaps * 40);
  for (size_t i = 0; i < data.size(); ++i) data[i] = std::sin(0.37 * i) * 1e3 + 1.0 / (i + 3);
  std::vector<const double*> rows;
  std::vector<double> weights;
  for (int t = 0; t < kTaps; ++t) {
    rows.push_back(data.data() + t * 40 + t % 3);
    weights.push_back(0.1 + 0.013 * t);
  }
  std::vector<double> out(kN);
  SumOfShiftedRows(rows.data(), weights.data(), kTaps, out.data(), kN);
  for (int i = 0; i < kN; ++i) {
    double expected = 0;
    for (int t = 0; t < kTaps; ++t) expected += weights[t] * rows[t][i];
    EXPECT_EQ(out[i], expected) << i;
  }
}

TEST(Filters, GaussianKeepsConstantsAndSigmaZeroIsIdentity) {
  std::vector<double> flat(12 * 9, 0.25), out(12 * 9);
  GaussianFilter(flat.data(), 12, 9, 2.0, 1.5, 4.0, Border::kReflect, out.data());
  for (double v : out) EXPECT_NEAR(v, 0.25, 1e-15);
  std::vector<double> ramp(12 * 9);
  for (size_t i = 0; i < ramp.size(); ++i) ramp[i] = i;
  GaussianFilter(ramp.data(), 12, 9, 0.0, 0.0, 4.0, Border::kNearest, out.data());
  EXPECT_EQ(out, ramp);
}

TEST(Filters, ClippedZoomByOneIsTheImage) {
  Planes x(1, 10, 13);
  for (size_t i = 0; i < x.v.size(); ++i) x.v[i] = i * 0.01;
  const Planes z = ClippedZoom(x, 1.0, 10, 13, /*float32=*/false);
  EXPECT_EQ(z.v, x.v);
}

}  // namespace
}  // namespace robustness::corruptions_internal
