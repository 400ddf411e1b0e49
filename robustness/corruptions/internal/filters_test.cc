#include "robustness/corruptions/internal/filters.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <tuple>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "gtest/gtest.h"
#include "robustness/corruptions/internal/ops.h"
#include "robustness/corruptions/internal/planes.h"
#include "robustness/corruptions/internal/random.h"

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

// ToPlanesF's u / 255 (the float64 product rounded once to float32) is spatter's float32
// quotient (NumPy's np.array(x, np.float32) / 255.) for every grey level.
TEST(Filters, ScaledGreyLevelsAreTheFloat32Quotients) {
  for (int u = 0; u < 256; ++u) {
    volatile float quotient = static_cast<float>(u) / 255.0f;
    EXPECT_EQ(static_cast<float>(u * (1.0 / 255.0)), quotient) << u;
  }
}

// The float32 kernels, whichever clone the CPU picks (AVX-512, AVX2 or the baseline), give the
// scalar loop's bits: the same terms in the same order, no FMA (-ffp-contract=off).
TEST(Filters, FloatSumsOfShiftedRowsEqualTheScalarSumsBitForBit) {
  constexpr int kRadius = 4, kTaps = 2 * kRadius + 1, kN = 64 * 2 + 16 + 8 + 5;
  std::vector<float> data(kTaps * 200);
  for (size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<float>(std::sin(0.37 * i) * 1e2 + 1.0 / (i + 3));
  }
  std::vector<const float*> rows;
  std::vector<float> weights(kTaps);
  for (int t = 0; t < kTaps; ++t) {
    rows.push_back(data.data() + t * 200 + t % 3);
    weights[t] = 0.05f + 0.01f * std::abs(t - kRadius);  // symmetric
  }
  std::vector<float> plain(kN), symmetric(kN);
  SumOfShiftedRows(rows.data(), weights.data(), kTaps, plain.data(), kN);
  SymmetricSumOfShiftedRows(rows.data(), weights.data(), kRadius, symmetric.data(), kN);
  for (int i = 0; i < kN; ++i) {
    float expected = 0;
    for (int t = 0; t < kTaps; ++t) expected += weights[t] * rows[t][i];
    EXPECT_EQ(plain[i], expected) << i;
    // SciPy correlate1d's symmetric order: the centre, then the pairs from the outermost in.
    float paired = rows[kRadius][i] * weights[kRadius];
    for (int j = 0; j < kRadius; ++j) paired += (rows[j][i] + rows[kTaps - 1 - j][i]) * weights[j];
    EXPECT_EQ(symmetric[i], paired) << i;
  }
}

// The float32 Gaussian agrees with the float64 one to float32 round-off, on both borders.
TEST(Filters, FloatGaussianMatchesTheFloat64Filter) {
  constexpr int64_t kH = 37, kW = 83;
  std::vector<double> x(kH * kW), y(kH * kW);
  std::vector<float> xf(kH * kW), yf(kH * kW);
  for (int64_t i = 0; i < kH * kW; ++i) {
    x[i] = 0.5 + 0.5 * std::sin(0.11 * i) * std::cos(0.017 * i);
    xf[i] = static_cast<float>(x[i]);
  }
  for (const Border border : {Border::kNearest, Border::kReflect}) {
    GaussianFilter(x.data(), kH, kW, 3.0, 2.2, 4.0, border, y.data());
    GaussianFilter(xf.data(), kH, kW, 3.0, 2.2, 4.0, border, yf.data());
    for (int64_t i = 0; i < kH * kW; ++i) EXPECT_NEAR(yf[i], y[i], 2e-6) << i;
    // In place, as the corruptions call it.
    std::vector<float> in_place = xf;
    GaussianFilter(in_place.data(), kH, kW, 3.0, 2.2, 4.0, border, in_place.data());
    EXPECT_EQ(in_place, yf);
  }
  std::vector<float> flat(kH * kW, 0.25f), out(kH * kW);
  GaussianFilter(flat.data(), kH, kW, 2.0, 1.5, 4.0, Border::kReflect, out.data());
  for (float v : out) EXPECT_NEAR(v, 0.25f, 1e-7f);
}

// MotionBlur (float32, padded rows) equals the reference's definition: tap i reads
// x[clamp(r - dy_i)][clamp(c - dx_i)], stopping at the first tap that leaves the image.
TEST(Filters, MotionBlurEqualsTheShiftedImageSum) {
  constexpr int64_t kH = 21, kW = 70;
  PlanesF x(2, kH, kW);
  for (size_t i = 0; i < x.v.size(); ++i) {
    x.v[i] = static_cast<float>(static_cast<uint32_t>(i * 2654435761u) >> 24);  // 0 .. 255
  }
  for (const auto& [radius, sigma, angle] : std::vector<std::tuple<int, double, double>>{
           {3, 1.0, 30.0}, {10, 3.0, -40.0}, {15, 5.0, -100.0}, {12, 4.0, 89.0}}) {
    const PlanesF out = MotionBlur(x, radius, sigma, angle);
    const int width = 2 * radius + 1;
    std::vector<double> kernel(width);
    double sum = 0;
    for (int i = 0; i < width; ++i) sum += kernel[i] = std::exp(-(1.0 * i * i) / (2 * sigma * sigma));
    const double rad = angle * M_PI / 180.0;
    const double p0 = width * std::sin(rad), p1 = width * std::cos(rad), hyp = std::hypot(p0, p1);
    for (int64_t ch = 0; ch < 2; ++ch) {
      for (int64_t r = 0; r < kH; ++r) {
        for (int64_t c = 0; c < kW; ++c) {
          double expected = 0;
          for (int i = 0; i < width; ++i) {
            const int64_t dy = -static_cast<int64_t>(std::ceil(i * p0 / hyp - 0.5));
            const int64_t dx = -static_cast<int64_t>(std::ceil(i * p1 / hyp - 0.5));
            if (std::abs(dy) >= kH || std::abs(dx) >= kW) break;
            expected += kernel[i] / sum * x.at(ch, Clamp(r - dy, kH), Clamp(c - dx, kW));
          }
          ASSERT_NEAR(out.at(ch, r, c), expected, 2e-4) << radius << " " << angle;
        }
      }
    }
  }
}

// The float32 truncation equals its scalar definition (clip, scale, 2^-10 guard, min 255,
// truncate), and flat values survive a float32 filter.
TEST(Filters, FloatTruncateEqualsTheScalarDefinition) {
  PlanesF unit(1, 1, 4103), levels(1, 1, 4103);
  for (int i = 0; i < 4103; ++i) {
    const float jitter = ((i % 7) - 3) * 1e-5f;
    unit.v[i] = (i - 20) / 4000.0f + jitter;
    levels.v[i] = (i - 20) / 15.9f + jitter;
  }
  const Uint8Image a = TruncateUnit(unit), b = Truncate255(levels);
  for (int i = 0; i < 4103; ++i) {
    const float u = std::clamp(unit.v[i], 0.0f, 1.0f) * 255.0f + 1.0f / (1 << 10);
    const float l = std::clamp(levels.v[i], 0.0f, 255.0f) + 1.0f / (1 << 10);
    EXPECT_EQ(a.data[i], static_cast<uint8_t>(std::min(u, 255.0f))) << i;
    EXPECT_EQ(b.data[i], static_cast<uint8_t>(std::min(l, 255.0f))) << i;
  }
  for (int v = 0; v < 256; ++v) {
    Uint8Image flat(1, 20, 20);
    std::fill(flat.data.begin(), flat.data.end(), static_cast<uint8_t>(v));
    PlanesF f = ToPlanesF(flat, 1.0 / 255.0);
    GaussianFilterPlanes(&f, 3.0, Border::kNearest);
    EXPECT_EQ(TruncateUnit(f).data, flat.data) << v;
  }
}

// Impulse noise: each value flips with probability a (two 31-bit uniforms per word), half of the
// flips to 255; the rest are untouched. 4 standard errors on 120k values.
TEST(Filters, ImpulseNoiseFlipsAFractionAOfTheValuesHalfToSalt) {
  Uint8Image grey(3, 200, 200);
  std::fill(grey.data.begin(), grey.data.end(), uint8_t{128});
  for (const double a : {0.01, 0.09, 0.27}) {
    Random random(7);
    const Uint8Image y = ImpulseNoise(grey, {a}, &random);
    int64_t salt = 0, pepper = 0, kept = 0;
    for (const uint8_t v : y.data) {
      salt += v == 255;
      pepper += v == 0;
      kept += v == 128;
    }
    const double n = static_cast<double>(y.data.size());
    ASSERT_EQ(salt + pepper + kept, y.data.size());
    const double flipped = (salt + pepper) / n;
    EXPECT_NEAR(flipped, a, 4 * std::sqrt(a * (1 - a) / n)) << a;
    EXPECT_NEAR(salt / static_cast<double>(salt + pepper), 0.5,
                4 * std::sqrt(0.25 / (salt + pepper))) << a;
  }
}

// PilNearestResize (byte shuffles over 16-byte windows where they fit) equals Pillow's
// definition: output pixel j takes input floor(accumulated (j + 1/2) in / out), enlarging and
// shrinking, with rows narrower and wider than a window.
TEST(Filters, PilNearestResizeEqualsTheAccumulatedDefinition) {
  for (const auto& [in_h, in_w, out_h, out_w] : std::vector<std::array<int64_t, 4>>{
           {12, 12, 32, 32}, {89, 89, 224, 224}, {224, 224, 89, 89}, {5, 7, 7, 50},
           {40, 40, 40, 40}, {17, 33, 100, 47}}) {
    Uint8Image image(3, in_h, in_w);
    for (size_t i = 0; i < image.data.size(); ++i) {
      image.data[i] = static_cast<uint8_t>(static_cast<uint32_t>(i * 2654435761u) >> 24);
    }
    const Uint8Image out = PilNearestResize(image, out_h, out_w);
    ASSERT_EQ(out.height, out_h);
    ASSERT_EQ(out.width, out_w);
    const double ax = static_cast<double>(in_w) / out_w, ay = static_cast<double>(in_h) / out_h;
    double yo = ay * 0.5;
    for (int64_t y = 0; y < out_h; ++y, yo += ay) {
      const int64_t sy = std::min<int64_t>(static_cast<int64_t>(yo), in_h - 1);
      double xo = ax * 0.5;
      for (int64_t x = 0; x < out_w; ++x, xo += ax) {
        const int64_t sx = std::min<int64_t>(static_cast<int64_t>(xo), in_w - 1);
        for (int64_t c = 0; c < 3; ++c) {
          ASSERT_EQ(out.plane(c)[y * out_w + x], image.plane(c)[sy * in_w + sx])
              << in_w << " -> " << out_w << " at " << y << ", " << x;
        }
      }
    }
  }
}

// DefocusBlur computes G (*) (D (*) x) with exact integer disk sums; the reference calls
// cv2.filter2D with the float32 kernel crop(G (*) D). Here filter2D itself is the oracle, on every (radius, alias)
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

// The diamond-square plasma written cell by cell, as the reference's plasma_fractal reads
// (toroidal neighbours by % n, each set's uniforms row by row, the sums in float32 and the noise
// in float64), with the same uniforms; PlasmaFractal's row-wise form must give the same bits.
std::vector<float> PlasmaByCells(int64_t p, double decay, Random* random) {
  std::vector<float> m(static_cast<size_t>(p * p), 0.0f);
  const auto at = [&](int64_t y, int64_t x) -> float& { return m[y * p + x]; };
  std::vector<double> u(static_cast<size_t>(std::max<int64_t>(p * p - 1, 1)));
  random->FillUniformLanes(u.data(), p * p - 1);
  size_t next = 0;
  double wibble = 100;
  const auto noisy = [&](float sum) {
    return static_cast<float>(sum / 4.0f + wibble * (-wibble + (wibble - -wibble) * u[next++]));
  };
  for (int64_t step = p; step >= 2; step /= 2) {
    const int64_t n = p / step, h = step / 2;
    std::vector<float> centre(static_cast<size_t>(n * n));
    std::vector<float> row_d(centre.size()), col_d(centre.size());
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        const int64_t i1 = (i + 1) % n, j1 = (j + 1) % n;
        centre[i * n + j] = noisy((at(i * step, j * step) + at(i1 * step, j * step)) +
                                  (at(i * step, j1 * step) + at(i1 * step, j1 * step)));
      }
    }
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < n; ++j) at(i * step + h, j * step + h) = centre[i * n + j];
    }
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        const int64_t im = (i + n - 1) % n, j1 = (j + 1) % n;
        row_d[i * n + j] = noisy((centre[i * n + j] + centre[im * n + j]) +
                                 (at(i * step, j * step) + at(i * step, j1 * step)));
      }
    }
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        const int64_t i1 = (i + 1) % n, jm = (j + n - 1) % n;
        col_d[i * n + j] = noisy((centre[i * n + j] + centre[i * n + jm]) +
                                 (at(i * step, j * step) + at(i1 * step, j * step)));
      }
    }
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        at(i * step, j * step + h) = row_d[i * n + j];
        at(i * step + h, j * step) = col_d[i * n + j];
      }
    }
    wibble /= decay;
  }
  const float lo = *std::min_element(m.begin(), m.end());
  for (float& v : m) v -= lo;
  const float hi = *std::max_element(m.begin(), m.end());
  if (hi > 0) {
    for (float& v : m) v /= hi;
  }
  return m;
}

TEST(Filters, PlasmaFractalEqualsTheCellByCellDefinition) {
  for (const int64_t p : {1, 2, 4, 32, 64, 256}) {
    for (const double decay : {1.5, 2.0, 3.0}) {
      Random a(static_cast<uint64_t>(p * 10 + decay)), b(static_cast<uint64_t>(p * 10 + decay));
      const std::vector<float> ours = PlasmaFractal(p, decay, &a);
      const std::vector<float> cells = PlasmaByCells(p, decay, &b);
      ASSERT_EQ(ours.size(), cells.size());
      for (size_t i = 0; i < ours.size(); ++i) {
        ASSERT_EQ(ours[i], cells[i]) << "map " << p << " decay " << decay << " at " << i;
      }
    }
  }
}

}  // namespace
}  // namespace robustness::corruptions_internal
