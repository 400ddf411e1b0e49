#include "robustness/corruptions/internal/filters.h"

#include <cmath>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "gtest/gtest.h"
#include "robustness/corruptions/internal/ops.h"
#include "robustness/corruptions/internal/planes.h"

namespace robustness::corruptions_internal {
namespace {

// Whichever clone the CPU picks (AVX2 or the baseline) must give the scalar loop's bits: the
// same terms added in the same order, no FMA.
TEST(Filters, SumOfShiftedRowsEqualsTheScalarSumBitForBit) {
  constexpr int kTaps = 7, kN = 77;  // 2 blocks of 32, one of 8 and a tail of 5
  std::vector<double> data(kTaps * 100);
  for (size_t i = 0; i < data.size(); ++i) data[i] = std::sin(0.37 * i) * 1e3 + 1.0 / (i + 3);
  std::vector<const double*> rows;
  std::vector<double> weights;
  for (int t = 0; t < kTaps; ++t) {
    rows.push_back(data.data() + t * 100 + t % 3);
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


// The vectorised truncation equals the scalar definition (clip, scale, 2^-20 guard, min 255,
// truncate) on values around every boundary, out of range, and on the tail.
TEST(Filters, TruncateEqualsTheScalarDefinition) {
  Planes unit(1, 1, 4103), levels(1, 1, 4103);
  for (int i = 0; i < 4103; ++i) {
    const double jitter = ((i % 7) - 3) * 1e-7;
    unit.v[i] = (i - 20) / 4000.0 + jitter;
    levels.v[i] = (i - 20) / 15.9 + jitter;
  }
  const Uint8Image a = TruncateUnit(unit), b = Truncate255(levels);
  for (int i = 0; i < 4103; ++i) {
    const double u = std::clamp(unit.v[i], 0.0, 1.0) * 255.0 + 1.0 / (1 << 20);
    const double l = std::clamp(levels.v[i], 0.0, 255.0) + 1.0 / (1 << 20);
    EXPECT_EQ(a.data[i], static_cast<uint8_t>(std::min(u, 255.0))) << i;
    EXPECT_EQ(b.data[i], static_cast<uint8_t>(std::min(l, 255.0))) << i;
  }
}

// DefocusBlur computes D (*) (G (*) x) with prefix sums; the reference calls cv2.filter2D with
// the float32 kernel crop(G (*) D). Here filter2D itself is the oracle, on every (radius, alias)
// of the three severity tables, including the disks that touch the kernel grid's edge (radius 8
// and 10, where the crop and GaussianBlur's border matter) and images smaller than the kernel.
TEST(Filters, DefocusBlurEqualsOpenCvFilter2D) {
  const std::vector<std::pair<double, double>> params = {
      {3, .1}, {4, .5}, {6, .5}, {8, .5}, {10, .5},           // ImageNet-C
      {.3, .4}, {.4, .5}, {.5, .6}, {1, .2}, {1.5, .1},       // CIFAR-10-C
      {.5, .6}, {1, .1}, {1.5, .1}, {2.5, .01}, {3, .1}};    // Tiny-ImageNet-C
  int64_t values = 0, differing = 0;
  for (const auto& [radius, alias] : params) {
    const int half = radius <= 8 ? 8 : static_cast<int>(radius);
    const int n = 2 * half + 1;
    cv::Mat disk(n, n, CV_32F);
    for (int y = 0; y < n; ++y) {
      for (int x = 0; x < n; ++x) {
        const double dy = y - half, dx = x - half;
        disk.at<float>(y, x) = dx * dx + dy * dy <= radius * radius ? 1.0f : 0.0f;
      }
    }
    disk /= cv::sum(disk)[0];
    cv::Mat kernel;
    const int ksize = radius <= 8 ? 3 : 5;
    cv::GaussianBlur(disk, kernel, cv::Size(ksize, ksize), alias);
    for (const auto& [side, channels] : std::vector<std::pair<int, int>>{
             {9, 1}, {28, 1}, {32, 3}, {45, 3}}) {
      Uint8Image image(channels, side, side);
      for (size_t i = 0; i < image.data.size(); ++i) {
        image.data[i] = static_cast<uint8_t>((i * 2654435761u) >> 24);
      }
      const Uint8Image ours = DefocusBlur(image, {radius, alias});
      for (int c = 0; c < channels; ++c) {
        cv::Mat plane(side, side, CV_64F);
        for (int i = 0; i < side * side; ++i) {
          plane.at<double>(i / side, i % side) = image.plane(c)[i] / 255.0;
        }
        cv::Mat expected;
        cv::filter2D(plane, expected, -1, kernel);
        for (int i = 0; i < side * side; ++i) {
          const double v = std::clamp(expected.at<double>(i / side, i % side), 0.0, 1.0) * 255.0;
          const int reference = static_cast<int>(v + 1.0 / (1 << 20));
          const int got = ours.plane(c)[i];
          ASSERT_LE(std::abs(got - reference), 1)
              << "radius " << radius << " side " << side << " value " << i << ": " << v;
          ++values;
          differing += got != reference;
        }
      }
    }
  }
  // Only values within ~1e-5 of a level boundary may fall on the other side.
  EXPECT_LT(differing, values / 10000 + 1) << differing << " of " << values;
}

}  // namespace
}  // namespace robustness::corruptions_internal
