// The JPEG round trip of the jpeg_compression corruption (ood_suite.md: Pillow's
// Image.save(..., 'JPEG', quality=q) then Image.open): baseline JPEG with libjpeg-turbo's
// defaults as Pillow leaves them (islow DCT, 4:2:0 chroma for RGB, no smoothing; decoding with
// fancy upsampling and islow IDCT). Entropy coding is lossless, so the decoded pixels depend only
// on the quantised coefficients: the fast round trip computes those and decodes them without
// writing a bitstream, bit-exact with libjpeg-turbo (jpeg_codec_test checks it against
// LibjpegRoundTrip over sizes, qualities, grey and RGB, extreme blocks at every quality, on each
// of its kernels: AVX-512BW and AVX2 in 16-bit lanes, jpeg_simd.inc, where the CPU has them, and
// portable int32 ones).
#ifndef ROBUSTNESS_CORRUPTIONS_INTERNAL_JPEG_CODEC_H_
#define ROBUSTNESS_CORRUPTIONS_INTERNAL_JPEG_CODEC_H_

#include "absl/status/statusor.h"
#include "robustness/augmentation/uint8_image.h"

namespace robustness::corruptions_internal {

// Encodes with libjpeg (-turbo, as linked) at `quality` and decodes. 1- or 3-channel images of
// any size >= 1 x 1. The reference the fast path is tested against, and its fallback.
absl::StatusOr<Uint8Image> LibjpegRoundTrip(const Uint8Image& image, int quality);

// The same pixels without entropy coding. Requires 1 or 3 channels and quality in 1..100; grey
// images of any size, RGB images at least kFastJpegMinRgbWidth wide (narrower ones, with 1 or
// 2 chroma columns, decode differently in libjpeg-turbo's SIMD upsampler from its C definition,
// which this follows; JpegRoundTrip takes libjpeg for them).
inline constexpr int64_t kFastJpegMinRgbWidth = 5;
bool FastJpegApplies(const Uint8Image& image, int quality);
Uint8Image FastJpegRoundTrip(const Uint8Image& image, int quality);

// Tests only: the widest kernels FastJpegRoundTrip may take, 3 AVX-512BW with VNNI (the
// default), 2 AVX-512BW, 1 AVX2, 0 the portable int32 / clone kernels; the machine's support caps
// it. Every level computes the same bits, and jpeg_codec_test compares each with libjpeg.
void SetJpegSimdForTesting(int limit);

// FastJpegRoundTrip where it applies, LibjpegRoundTrip otherwise.
absl::StatusOr<Uint8Image> JpegRoundTrip(const Uint8Image& image, int quality);

}  // namespace robustness::corruptions_internal

#endif  // ROBUSTNESS_CORRUPTIONS_INTERNAL_JPEG_CODEC_H_
