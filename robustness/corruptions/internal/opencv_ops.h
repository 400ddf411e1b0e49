// Re-implementations of the OpenCV calls imagecorruptions' spatter makes (ood_suite.md, spatter),
// bit-exact with OpenCV 4.6 (opencv_ops_test compares each with the library on random images)
// and faster: the distance transform's scans keep only the left (right) neighbour serial, the
// box filters and the correlation run over padded rows. Single-channel H x W planes, row-major;
// borders are OpenCV's default BORDER_REFLECT_101.
#ifndef ROBUSTNESS_CORRUPTIONS_INTERNAL_OPENCV_OPS_H_
#define ROBUSTNESS_CORRUPTIONS_INTERNAL_OPENCV_OPS_H_

#include <cstdint>

namespace robustness::corruptions_internal {

// cv::distanceTransform(src, dst, DIST_L2, 5): Borgefors' two-pass 5 x 5 chamfer distance to
// the nearest zero pixel, in OpenCV's 16.16 fixed point (steps 1, 1.4 and 2.1969 rounded to
// 65536, 91750 and 143976), float32 output in pixels. Pixels outside the image are never a
// path. An image without zero pixels gets kChamferUnreached everywhere.
inline constexpr float kChamferUnreached = 8192.0f;  // OpenCV's DIST_MAX x 2^-16
void ChamferDistance5x5(const uint8_t* src, int64_t height, int64_t width, float* dst);

// cv::blur(src, dst, Size(3, 3)) on float32: 3 x 3 sums in float64 (OpenCV's sum type for
// float input), times 1/9, rounded to float32. In place is allowed.
void BoxBlur3x3(const float* src, int64_t height, int64_t width, float* dst);
// The same on uint8: integer sums, rounded to nearest (sum / 9 is never a tie).
void BoxBlur3x3(const uint8_t* src, int64_t height, int64_t width, uint8_t* dst);

// cv::equalizeHist: the cumulative histogram from the first occupied level, scaled by
// 255 / (pixels above it) in float32 and rounded half to even; a single-level image maps to
// that level. In place is allowed.
void EqualizeHistogram(const uint8_t* src, int64_t n, uint8_t* dst);

// cv::filter2D(src, dst, CV_8U, kernel) for an integer 3 x 3 kernel (row-major, a correlation
// about the centre): integer sums (exact, as OpenCV's float sums of these integers are),
// saturated to 0..255. In place is allowed.
void Correlate3x3(const uint8_t* src, int64_t height, int64_t width, const int kernel[9],
                  uint8_t* dst);

}  // namespace robustness::corruptions_internal

#endif  // ROBUSTNESS_CORRUPTIONS_INTERNAL_OPENCV_OPS_H_
