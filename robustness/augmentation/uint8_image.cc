#include "robustness/augmentation/uint8_image.h"

#include <algorithm>
#include <cmath>

#include "glog/logging.h"

namespace robustness {

Uint8Image ToUint8Image(const torch::Tensor& image) {
  CHECK_EQ(image.dim(), 3) << "expected [C, H, W], got " << image.sizes();
  const torch::Tensor x = image.to(torch::kFloat).contiguous();
  Uint8Image out(x.size(0), x.size(1), x.size(2));
  const float* in = x.data_ptr<float>();
  for (size_t i = 0; i < out.data.size(); ++i) {
    const float v = std::nearbyint(in[i] * 255.0f);
    out.data[i] = static_cast<uint8_t>(std::min(255.0f, std::max(0.0f, v)));
  }
  return out;
}

torch::Tensor ToFloatTensor(const Uint8Image& image) {
  torch::Tensor out = torch::empty({image.channels, image.height, image.width}, torch::kFloat);
  float* o = out.data_ptr<float>();
  for (size_t i = 0; i < image.data.size(); ++i) o[i] = image.data[i] / 255.0f;  // as the loaders divide
  return out;
}

}  // namespace robustness
