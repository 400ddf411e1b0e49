// The 19 corruption algorithms (ood_suite.md 1.2), one function each, on one planar uint8 image
// of 1 or 3 channels with the parameters of one severity (severity_table.h gives their order).
// Each returns the reference's uint8 output for that image (truncated, as np.uint8 does).
//
// Grey (1-channel) images: imagecorruptions' corrupt() replicates them to RGB and returns RGB;
// these functions run on the one channel instead, which gives the reference's channel for every
// corruption whose RGB output has three equal channels (all but frost and spatter, whose colours
// enter through their luma, and saturate, see digital_ops.cc). Noise is drawn once per value.
#ifndef ROBUSTNESS_CORRUPTIONS_INTERNAL_OPS_H_
#define ROBUSTNESS_CORRUPTIONS_INTERNAL_OPS_H_

#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "robustness/augmentation/uint8_image.h"
#include "robustness/corruptions/internal/random.h"
#include "robustness/proto/corruption.pb.h"

namespace robustness::corruptions_internal {

using Params = std::vector<double>;

// What a few corruptions need beyond the image: the table (its algorithm variants) and, for
// frost, the frost image `index` (of `count`) already resized by the table's rule for an image
// of height x width (RGB, covering at least height x width; the callee checks).
struct OpContext {
  proto::SeverityTable table = proto::SEVERITY_TABLE_UNSPECIFIED;
  int frost_count = 0;
  std::function<absl::StatusOr<const Uint8Image*>(int index, int64_t height, int64_t width)>
      frost_image;
};

// noise_ops.cc
Uint8Image GaussianNoise(const Uint8Image& x, const Params& p, Random* random);
Uint8Image ShotNoise(const Uint8Image& x, const Params& p, Random* random);
Uint8Image ImpulseNoise(const Uint8Image& x, const Params& p, Random* random);
Uint8Image SpeckleNoise(const Uint8Image& x, const Params& p, Random* random);

// blur_ops.cc
Uint8Image DefocusBlur(const Uint8Image& x, const Params& p);
Uint8Image GlassBlur(const Uint8Image& x, const Params& p, Random* random);
Uint8Image MotionBlurOp(const Uint8Image& x, const Params& p, Random* random);
Uint8Image ZoomBlur(const Uint8Image& x, const Params& p);
Uint8Image GaussianBlur(const Uint8Image& x, const Params& p);

// weather_ops.cc
Uint8Image Snow(const Uint8Image& x, const Params& p, Random* random);
absl::StatusOr<Uint8Image> Frost(const Uint8Image& x, const Params& p, const OpContext& context,
                                 Random* random);
Uint8Image Fog(const Uint8Image& x, const Params& p, const OpContext& context, Random* random);
Uint8Image Brightness(const Uint8Image& x, const Params& p);
Uint8Image Spatter(const Uint8Image& x, const Params& p, Random* random);
// Tests only: the widest blend kernels Spatter may take, 2 AVX-512 (the default), 1 AVX2 + FMA,
// 0 portable; the machine's support caps it. Every level computes the same bits.
void SetSpatterBlendSimdForTesting(int limit);

// digital_ops.cc
Uint8Image Contrast(const Uint8Image& x, const Params& p);
Uint8Image ElasticTransform(const Uint8Image& x, const Params& p, const OpContext& context,
                            Random* random);
Uint8Image Pixelate(const Uint8Image& x, const Params& p, const OpContext& context);
absl::StatusOr<Uint8Image> JpegCompression(const Uint8Image& x, const Params& p);
Uint8Image Saturate(const Uint8Image& x, const Params& p);

}  // namespace robustness::corruptions_internal

#endif  // ROBUSTNESS_CORRUPTIONS_INTERNAL_OPS_H_
