// Re-implementations of the OpenCV calls imagecorruptions' spatter makes (ood_suite.md, spatter),
// bit-exact with OpenCV 4.6 (opencv_ops_test compares each with the library on random images)
// and faster: Canny's derivatives and suppression in int16 lanes, the distance transform's scans
// with only the left (right) neighbour serial, the box filters and the correlation over padded
// rows; the row kernels compiled for AVX-512, AVX2 and the baseline (integer arithmetic, or the
// same float operations in the same order: the same values on every CPU). Single-channel H x W
// planes, row-major; borders are OpenCV's default BORDER_REFLECT_101 unless said otherwise.
#ifndef ROBUSTNESS_CORRUPTIONS_INTERNAL_OPENCV_OPS_H_
#define ROBUSTNESS_CORRUPTIONS_INTERNAL_OPENCV_OPS_H_

#include <cstdint>

namespace robustness::corruptions_internal {

// cv::Canny(src, dst, low_threshold, high_threshold) (3 x 3 Sobel, L1 gradient): 255 on edges,
// 0 elsewhere. The Sobel derivatives with replicated borders; |dx| + |dy| magnitudes, 0 outside
// the image; non-maximum suppression along the gradient's sector (tan 22.5 deg in 15-bit fixed
// point, OpenCV's strict / non-strict comparisons); hysteresis: the 8-connected pixels above
// floor(low) that survive suppression and reach one above floor(high). The thresholds are
// swapped if low > high, as OpenCV does.
void Canny3x3L1(const uint8_t* src, int64_t height, int64_t width, double low_threshold,
                double high_threshold, uint8_t* dst);

// cv::distanceTransform(src, dst, DIST_L2, 5) before its conversion to float: Borgefors'
// two-pass 5 x 5 chamfer distance to the nearest zero pixel in OpenCV's 16.16 fixed point (steps
// 1, 1.4 and 2.1969 rounded to 65536, 91750 and 143976); OpenCV's float32 output in pixels is
// dst x 2^-16, exact (below 2^24). Pixels outside the image are never a path; an image without
// zero pixels gets kChamferUnreachedFixed (OpenCV's DIST_MAX) everywhere.
inline constexpr uint32_t kChamferUnreachedFixed = 8192u << 16;
void ChamferDistance5x5Fixed(const uint8_t* src, int64_t height, int64_t width, uint32_t* dst);

// Spatter's uint8(cv::blur(cv::threshold(dist, cap, cap, THRESH_TRUNC), (3, 3))) (NumPy's
// truncating astype) for OpenCV's float distances, from the fixed-point ones in integers:
// the capped values are k / 65536 with integers k <= cap 65536, their float64 3 x 3 sum K / 65536
// is exact, and for cap <= 28 the float32 of K / 65536 x (1 / 9) never rounds up to the next
// integer (K is at least 1 below 589824 j, a relative gap above float32's 2^-24 for j <= 28), so
// the level is K / 589824 in integers. cap in [0, 28]; reflect-101 borders as cv::blur.
void CappedBlurredDistanceLevels(const uint32_t* fixed, int64_t height, int64_t width, int cap,
                                 uint8_t* dst);

// cv::blur(src, dst, Size(3, 3)) on uint8: integer sums, rounded to nearest (sum / 9 is never a
// tie). In place is allowed.
void BoxBlur3x3(const uint8_t* src, int64_t height, int64_t width, uint8_t* dst);

// cv::LUT for bytes: dst[i] = table[src[i]] for i < n. In place is allowed.
void LookUpBytes(const uint8_t table[256], const uint8_t* src, int64_t n, uint8_t* dst);

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
