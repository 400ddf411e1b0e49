// Random Erasing as timm 0.3.2's RandomErasing (timm_recipes.md section 3; DeiT: p 0.25, pixel
// mode, one box; the paper's scripts pass --reprob 0, so its recipes do not use it).
//
// Placement: timm erases the *normalised* tensor after Normalize, filling with 0 (const),
// N(0, 1) per channel (rand) or per pixel (pixel). Our models normalise inside forward()
// (image_classifier.h), so we erase the [0, 1] image with fill mean + std * v for the same v: the
// model then sees exactly timm's values. Erased pixels may therefore lie outside [0, 1].
// Geometry and fill draws come from a ScalarRandom (timm: Python random and torch.normal_).
#ifndef ROBUSTNESS_AUGMENTATION_RANDOM_ERASING_H_
#define ROBUSTNESS_AUGMENTATION_RANDOM_ERASING_H_

#include <vector>

#include <torch/types.h>

#include "robustness/base/scalar_random.h"

namespace robustness {

struct RandomErasingOptions {
  enum class Mode { kConst, kRand, kPixel };
  double probability = 0.5;        // in [0, 1]
  double area_min = 0.02;          // box area / image area, 0 < min <= max <= 1
  double area_max = 1.0 / 3.0;
  double aspect_min = 0.3;         // h / w, drawn log-uniformly in [min, max], 0 < min <= max
  double aspect_max = 1.0 / 0.3;
  Mode mode = Mode::kConst;
  int min_count = 1;               // boxes per erased image ~ U{min_count..max_count}
  int max_count = 1;
  std::vector<float> mean;         // the model's normalisation, one per channel
  std::vector<float> std;
};

// `image`: float32 [C, H, W] (CPU). With probability `probability` erases count boxes, each
// given up to 10 attempts: area = U(area_min, area_max) * H * W / count, aspect = exp(U(log
// aspect_min, log aspect_max)), h = round(sqrt(area * aspect)), w = round(sqrt(area / aspect))
// (half to even), accepted when h < H and w < W (strict), placed uniformly. CHECKs mean/std have
// C values. Returns a new tensor, or `image` itself when nothing is erased.
torch::Tensor RandomErasing(const torch::Tensor& image, const RandomErasingOptions& options,
                            ScalarRandom& random);

}  // namespace robustness

#endif  // ROBUSTNESS_AUGMENTATION_RANDOM_ERASING_H_
