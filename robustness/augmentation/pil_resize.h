// Pillow 9.4's Image.resize on 8-bit images (libImaging Resample.c, ImagingResample), the resize
// inside torchvision's RandomResizedCrop on PIL images (PAPER.md 3.1: 224 x 224 crops, bicubic as
// DeiT's recipe). Bit-exact with Pillow (tested against fixtures Debian's python3-pil writes at
// build time, pil_resize_test.cc), so a C++ pipeline sees the pixels the Python one does.
//
// The algorithm, per output axis: scale = in / out, filter support widened by max(scale, 1) (the
// antialiasing that makes downscaling average rather than skip), window [round(centre - support),
// round(centre + support)) clipped to the image, weights filter((i - centre + 1/2) / max(scale, 1))
// normalised to sum 1 and rounded to 22 fractional bits; the horizontal pass runs first and its
// result is rounded to uint8 before the vertical pass, as Pillow does.
#ifndef ROBUSTNESS_AUGMENTATION_PIL_RESIZE_H_
#define ROBUSTNESS_AUGMENTATION_PIL_RESIZE_H_

#include <cstdint>

#include "robustness/augmentation/pil_ops.h"
#include "robustness/augmentation/uint8_image.h"

namespace robustness {

// image.resize((width, height), resample) for a planar uint8 image of any channel count.
// kBicubic here is Pillow's resize bicubic, a = -0.5 (support 2); kBilinear the triangle filter
// (support 1); kBox Pillow's BOX (support 1/2, centre-sampled: weight 1 on (-1/2, 1/2]). height,
// width >= 1 and a non-empty image are CHECKed. Same size returns a copy.
//
// Example: Uint8Image out = PilResize(crop, 224, 224, Resample::kBicubic);
Uint8Image PilResize(const Uint8Image& image, int64_t height, int64_t width, Resample resample);

// Tests only: whether PilResize may use its AVX2 pass on CPUs that have it (default true). With
// false every CPU takes the SSE2 pass, so an AVX2 machine can test the path other CPUs run.
void SetPilResizeAvx2AllowedForTesting(bool allowed);

}  // namespace robustness

#endif  // ROBUSTNESS_AUGMENTATION_PIL_RESIZE_H_
