#include "robustness/augmentation/color_jitter.h"

#include <array>
#include <utility>

#include "glog/logging.h"
#include "robustness/augmentation/pil_ops.h"

namespace robustness {

Uint8Image ColorJitter(const Uint8Image& image, const ColorJitterOptions& options,
                       ScalarRandom& random) {
  const std::array<double, 3> strength = {options.brightness, options.contrast,
                                          options.saturation};
  for (double s : strength) {
    CHECK_GE(s, 0.0);
    CHECK_LE(s, 1.0);
  }
  // torchvision: fn_idx = randperm(4) (hue, index 3, is None and skipped), then the factors.
  std::array<int, 4> order = {0, 1, 2, 3};
  for (int i = 3; i > 0; --i) std::swap(order[i], order[random.UniformInt(0, i)]);
  std::array<double, 3> factor;
  for (int i = 0; i < 3; ++i) {
    factor[i] = random.Uniform(1.0 - strength[i], 1.0 + strength[i]);
  }
  constexpr Enhancement kKinds[3] = {Enhancement::kBrightness, Enhancement::kContrast,
                                     Enhancement::kColor};
  Uint8Image out = image;
  for (int index : order) {
    if (index == 3 || strength[index] == 0.0) continue;
    out = Enhance(out, kKinds[index], factor[index]);
  }
  return out;
}

torch::Tensor ColorJitter(const torch::Tensor& image, const ColorJitterOptions& options,
                          ScalarRandom& random) {
  return ToFloatTensor(ColorJitter(ToUint8Image(image), options, random));
}

}  // namespace robustness
