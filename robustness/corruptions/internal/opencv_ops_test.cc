#include "robustness/corruptions/internal/opencv_ops.h"

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

TEST(OpenCvOps, ChamferDistanceEqualsOpenCv) {
  std::mt19937 rng(1);
  for (auto [h, w] : Sizes()) {
    for (int zeros : {0, 1, 20, 100}) {
      const cv::Mat src = RandomBytes(h, w, &rng, zeros);
      cv::Mat expected;
      cv::distanceTransform(src, expected, cv::DIST_L2, 5);
      std::vector<float> got(static_cast<size_t>(h * w));
      ChamferDistance5x5(src.data, h, w, got.data());
      for (int i = 0; i < h * w; ++i) {
        ASSERT_EQ(got[i], expected.ptr<float>()[i]) << h << "x" << w << " zeros " << zeros << " at " << i;
      }
    }
  }
}

TEST(OpenCvOps, FloatBoxBlurEqualsOpenCv) {
  std::mt19937 rng(2);
  std::uniform_int_distribution<int> steps(0, 20 * 65536);
  for (auto [h, w] : Sizes()) {
    cv::Mat src(h, w, CV_32F);
    for (int i = 0; i < h * w; ++i) src.ptr<float>()[i] = steps(rng) / 65536.0f;
    cv::Mat expected;
    cv::blur(src, expected, cv::Size(3, 3));
    std::vector<float> got(static_cast<size_t>(h * w));
    BoxBlur3x3(src.ptr<float>(), h, w, got.data());
    for (int i = 0; i < h * w; ++i) ASSERT_EQ(got[i], expected.ptr<float>()[i]) << h << "x" << w << " " << i;
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
