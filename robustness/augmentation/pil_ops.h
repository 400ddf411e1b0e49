// The image operations RandAugment is built from, with Pillow 9.4's exact integer semantics
// (timm_recipes.md section 1.5; Pillow's ImageOps, ImageEnhance and libImaging Blend.c,
// Geometry.c, Filter.c, Convert.c), on planar uint8 images (uint8_image.h) of 1 (L) or 3 (RGB)
// channels. Each equals Pillow's result on the same image within one grey level (tested against
// fixtures Debian's python3-pil writes at build time, pil_ops_test.cc); most are bit-exact.
//
// Every op returns a new image of the input's shape; none draws random numbers (the random
// arguments are RandAugment's business, rand_augment.h).
#ifndef ROBUSTNESS_AUGMENTATION_PIL_OPS_H_
#define ROBUSTNESS_AUGMENTATION_PIL_OPS_H_

#include <array>
#include <cstdint>
#include <vector>

#include "robustness/augmentation/uint8_image.h"

namespace robustness {

// ImageOps.invert: v -> 255 - v.
Uint8Image Invert(const Uint8Image& image);
// ImageOps.solarize: v if v < threshold else 255 - v. threshold >= 256 is the identity.
Uint8Image Solarize(const Uint8Image& image, int threshold);
// timm's solarize_add: min(255, v + add) where v < threshold, else v.
Uint8Image SolarizeAdd(const Uint8Image& image, int add, int threshold = 128);
// ImageOps.posterize: keep the top `bits` bits, v & ~(2^(8 - bits) - 1). bits in [0, 8]
// (CHECKed); 0 gives a black image, 8 the identity (timm returns the image for bits >= 8).
Uint8Image Posterize(const Uint8Image& image, int bits);
// ImageOps.autocontrast(cutoff=0), per channel: lo/hi = min/max occupied value; identity when
// hi <= lo, else v -> clamp(trunc(255 / (hi - lo) * v - lo * 255 / (hi - lo)), 0, 255).
Uint8Image AutoContrast(const Uint8Image& image);
// ImageOps.equalize, per channel (Pillow's step/LUT rule; identity for a flat channel).
Uint8Image Equalize(const Uint8Image& image);

// ImageEnhance.{Color, Contrast, Brightness, Sharpness}(image).enhance(factor): Image.blend of a
// degenerate image d and the image with alpha = factor (float32 arithmetic, truncated; clipped
// to [0, 255] when factor is outside [0, 1]). d is: Color, the L conversion
// (19595 R + 38470 G + 7471 B + 2^15) >> 16 (identity on L images); Contrast, the constant
// int(mean(L) + 0.5); Brightness, black; Sharpness, the SMOOTH 3x3 filter [1 1 1; 1 5 1; 1 1 1] / 13
// with border rows and columns copied.
enum class Enhancement { kColor, kContrast, kBrightness, kSharpness };
Uint8Image Enhance(const Uint8Image& image, Enhancement kind, double factor);

// Resampling filter of the geometric ops. Bicubic is Pillow's transform bicubic, the Keys kernel
// with a = -1 (not the a = -0.5 of Pillow's resize).
enum class Resample { kBilinear, kBicubic, kBox };

// Image.transform(size, AFFINE, (a, b, c, d, e, f), resample, fillcolor=fill): output pixel
// centre (x + 1/2, y + 1/2) samples the input at (a(x+1/2) + b(y+1/2) + c, d(x+1/2) + e(y+1/2) + f);
// points outside [0, W) x [0, H) take `fill` (one value per channel, CHECKed); neighbours are
// clamped at the border. Examples (timm): ShearX(s) = {1, s, 0, 0, 1, 0};
// TranslateX(px) = {1, 0, px, 0, 1, 0} (positive px moves the content left).
Uint8Image Affine(const Uint8Image& image, const std::array<double, 6>& matrix, Resample resample,
                  const std::vector<uint8_t>& fill);

// Image.rotate(degrees, resample, fillcolor=fill): counter-clockwise about (W/2, H/2), same size.
// Multiples of 360 return a copy, as Pillow does; 90/180/270 on a square image are exact
// transposes in Pillow and here.
Uint8Image Rotate(const Uint8Image& image, double degrees, Resample resample,
                  const std::vector<uint8_t>& fill);

}  // namespace robustness

#endif  // ROBUSTNESS_AUGMENTATION_PIL_OPS_H_
