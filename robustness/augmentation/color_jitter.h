// ColorJitter(brightness, contrast, saturation, hue = 0) as timm 0.3.2 uses it when no
// RandAugment string is given (timm_recipes.md 1.6: the paper's main_clean.py default, 0.4 each):
// torchvision 0.14's transform on a PIL image, i.e. a random order of the three adjustments, each
// with a factor ~ U[1 - s, 1 + s], done by Pillow's ImageEnhance (Brightness, Contrast, Color)
// with Pillow's integer semantics (pil_ops.h). Saturation is the identity on grey images, as in
// Pillow. Draws come from a ScalarRandom: the order first, then the three factors.
#ifndef ROBUSTNESS_AUGMENTATION_COLOR_JITTER_H_
#define ROBUSTNESS_AUGMENTATION_COLOR_JITTER_H_

#include <torch/types.h>

#include "robustness/augmentation/uint8_image.h"
#include "robustness/base/scalar_random.h"

namespace robustness {

// Strengths in [0, 1] (a factor range [1 - s, 1 + s]; 0 disables that adjustment). CHECKed.
struct ColorJitterOptions {
  double brightness = 0.4;
  double contrast = 0.4;
  double saturation = 0.4;
};

Uint8Image ColorJitter(const Uint8Image& image, const ColorJitterOptions& options,
                       ScalarRandom& random);

// float32 [C, H, W] in [0, 1], quantised to uint8 (round) as a PIL pipeline is; returns v / 255.
torch::Tensor ColorJitter(const torch::Tensor& image, const ColorJitterOptions& options,
                          ScalarRandom& random);

}  // namespace robustness

#endif  // ROBUSTNESS_AUGMENTATION_COLOR_JITTER_H_
