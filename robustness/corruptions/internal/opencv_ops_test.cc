#include "robustness/corruptions/internal/opencv_ops.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "gtest/gtest.h"

namespace robustness::corruptions_internal {
namespace {

// Sizes from 1 x 1 (the frames' degenerate reflections) to a spatter-sized plane.
const std::vector<std::pair<int, int>>& Sizes() {
  static const auto* sizes = new std::vector<std::pair<int, int>>{
      {1, 1}, {1, 7}, {6, 1}, {2, 2}, {3, 5}, {17, 9}, {28, 28}, {32, 32}, {61, 224}};
  return *sizes;
}

cv::Mat RandomBytes(int h, int w, std::mt19937* rng, int zero_percent) {
  cv::Mat m(h, w, CV_8U);
  std::uniform_int_distribution<int> byte(0, 255), percent(0, 99);
  for (int i = 0; i < h * w; ++i) m.data[i] = percent(*rng) < zero_percent ? 0 : byte(*rng);
  return m;
}

// Canny on what spatter gives it (a blurred random field, cut to 0 below a threshold), on
// few-level blocks (ties: the strict and non-strict comparisons), on noise and on flat images.
TEST(OpenCvOps, CannyEqualsOpenCv) {
  std::mt19937 rng(6);
  std::vector<std::pair<int, int>> sizes = Sizes();
  sizes.push_back({224, 224});
  sizes.push_back({33, 100});
  int64_t edges = 0, pixels = 0;  // the cases are not all edge-free (nor all edges)
  for (auto [h, w] : sizes) {
    for (int kind = 0; kind < 6; ++kind) {
      cv::Mat src = RandomBytes(h, w, &rng, 0);
      if (kind == 1 || kind == 2) {
        cv::GaussianBlur(src, src, cv::Size(0, 0), kind == 1 ? 1.5 : 3.0);
        cv::Mat stretched;
        src.convertTo(stretched, CV_8U, 8.0, -900.0);  // contrast, saturated: plateaus at 0
        src = stretched;
      } else if (kind == 3) {
        for (int i = 0; i < h * w; ++i) src.data[i] = static_cast<uint8_t>((src.data[i] % 3) * 70);
      } else if (kind == 4) {
        for (int i = 0; i < h * w; ++i) {
          const int y = i / w, x = i % w;
          src.data[i] = static_cast<uint8_t>(((y / 3 + x / 4) % 2) * 100 + (x * y) % 7);
        }
      } else if (kind == 5) {
        src.setTo(77);
      }
      for (auto [low, high] : {std::pair<double, double>{50, 150}, {150.7, 50.2}, {0, 0}}) {
        cv::Mat expected;
        cv::Canny(src, expected, low, high);
        std::vector<uint8_t> got(static_cast<size_t>(h * w));
        Canny3x3L1(src.data, h, w, low, high, got.data());
        for (int i = 0; i < h * w; ++i) {
          ASSERT_EQ(int(got[i]), int(expected.data[i]))
              << h << "x" << w << " kind " << kind << " thresholds " << low << "," << high
              << " at " << i;
        }
        edges += cv::countNonZero(expected);
        pixels += h * w;
      }
    }
  }
  EXPECT_GT(edges, pixels / 20);
  EXPECT_LT(edges, pixels / 2);
}

TEST(OpenCvOps, ChamferDistanceEqualsOpenCv) {
  std::mt19937 rng(1);
  for (auto [h, w] : Sizes()) {
    for (int zeros : {0, 1, 20, 100}) {
      const cv::Mat src = RandomBytes(h, w, &rng, zeros);
      cv::Mat expected;
      cv::distanceTransform(src, expected, cv::DIST_L2, 5);
      std::vector<uint32_t> got(static_cast<size_t>(h * w));
      ChamferDistance5x5Fixed(src.data, h, w, got.data());
      for (int i = 0; i < h * w; ++i) {
        // OpenCV's float output is its fixed-point distance x 2^-16, exactly.
        ASSERT_EQ(static_cast<float>(got[i]) * (1.0f / 65536.0f), expected.ptr<float>()[i])
            << h << "x" << w << " zeros " << zeros << " at " << i;
      }
    }
  }
}

// Spatter's capped, blurred, truncated levels from the fixed-point distances equal the OpenCV
// chain (threshold TRUNC, blur, NumPy's truncating astype), for every cap the function takes, on
// sparse and dense zeros.
TEST(OpenCvOps, DistanceLevelsEqualTheOpenCvChain) {
  std::mt19937 rng(7);
  for (auto [h, w] : Sizes()) {
    for (int zeros : {-1, 1, 3, 20, 100}) {
      // -1: one zero pixel, far from most (distances past every cap).
      cv::Mat src = RandomBytes(h, w, &rng, std::max(zeros, 0));
      if (zeros == -1) {
        src.setTo(9);
        src.data[(h / 3) * w + w / 5] = 0;
      }
      cv::Mat dist;
      cv::distanceTransform(src, dist, cv::DIST_L2, 5);
      std::vector<uint32_t> fixed(static_cast<size_t>(h * w));
      ChamferDistance5x5Fixed(src.data, h, w, fixed.data());
      for (int i = 0; i < h * w; ++i) {
        ASSERT_EQ(static_cast<float>(fixed[i]) * (1.0f / 65536.0f), dist.ptr<float>()[i]) << i;
      }
      for (int cap : {0, 1, 5, 20, 28}) {
        cv::Mat capped, blurred;
        cv::threshold(dist, capped, cap, cap, cv::THRESH_TRUNC);
        cv::blur(capped, blurred, cv::Size(3, 3));
        std::vector<uint8_t> got(static_cast<size_t>(h * w));
        CappedBlurredDistanceLevels(fixed.data(), h, w, cap, got.data());
        for (int i = 0; i < h * w; ++i) {
          const int expected = static_cast<uint8_t>(static_cast<int>(blurred.ptr<float>()[i]));
          ASSERT_EQ(int(got[i]), expected) << h << "x" << w << " zeros " << zeros << " cap "
                                           << cap << " at " << i;
        }
      }
    }
  }
}

TEST(OpenCvOps, ByteBoxBlurEqualsOpenCv) {
  std::mt19937 rng(3);
  for (auto [h, w] : Sizes()) {
    const cv::Mat src = RandomBytes(h, w, &rng, 10);
    cv::Mat expected;
    cv::blur(src, expected, cv::Size(3, 3));
    std::vector<uint8_t> got(static_cast<size_t>(h * w));
    BoxBlur3x3(src.data, h, w, got.data());
    for (int i = 0; i < h * w; ++i) ASSERT_EQ(int(got[i]), int(expected.data[i])) << h << "x" << w << " " << i;
  }
}

TEST(OpenCvOps, EqualizeHistogramEqualsOpenCv) {
  std::mt19937 rng(4);
  for (auto [h, w] : Sizes()) {
    for (int zeros : {0, 50, 100}) {
      cv::Mat src = RandomBytes(h, w, &rng, zeros);
      // Few levels too (the distance maps spatter equalises have ~20).
      if (zeros == 50) for (int i = 0; i < h * w; ++i) src.data[i] = src.data[i] % 21 + 3;
      cv::Mat expected;
      cv::equalizeHist(src, expected);
      std::vector<uint8_t> got(static_cast<size_t>(h * w));
      EqualizeHistogram(src.data, h * w, got.data());
      for (int i = 0; i < h * w; ++i) ASSERT_EQ(int(got[i]), int(expected.data[i])) << h << "x" << w << " " << i;
    }
  }
}

TEST(OpenCvOps, Correlate3x3EqualsFilter2D) {
  std::mt19937 rng(5);
  const int kernel[9] = {-2, -1, 0, -1, 1, 1, 0, 1, 2};
  const cv::Mat ker = (cv::Mat_<double>(3, 3) << -2, -1, 0, -1, 1, 1, 0, 1, 2);
  for (auto [h, w] : Sizes()) {
    const cv::Mat src = RandomBytes(h, w, &rng, 10);
    cv::Mat expected;
    cv::filter2D(src, expected, CV_8U, ker);
    std::vector<uint8_t> got(static_cast<size_t>(h * w));
    Correlate3x3(src.data, h, w, kernel, got.data());
    for (int i = 0; i < h * w; ++i) ASSERT_EQ(int(got[i]), int(expected.data[i])) << h << "x" << w << " " << i;
  }
}

}  // namespace
}  // namespace robustness::corruptions_internal
