#include "robustness/augmentation/uint8_image.h"

#include <algorithm>
#include <array>
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

Uint8Image Uint8ImageFromBytes(const torch::Tensor& bytes) {
  CHECK_EQ(bytes.dim(), 3) << "expected [C, H, W], got " << bytes.sizes();
  CHECK_EQ(bytes.scalar_type(), torch::kByte);
  const torch::Tensor x = bytes.cpu().contiguous();
  Uint8Image out(x.size(0), x.size(1), x.size(2));
  std::copy_n(x.data_ptr<uint8_t>(), out.data.size(), out.data.begin());
  return out;
}

torch::Tensor ToFloatTensor(const Uint8Image& image) {
  torch::Tensor out = torch::empty({image.channels, image.height, image.width}, torch::kFloat);
  // v / 255.0f as the loaders divide, from a table (a division per value was the cost).
  static const std::array<float, 256> kTable = [] {
    std::array<float, 256> t;
    for (int v = 0; v < 256; ++v) t[v] = static_cast<float>(v) / 255.0f;
    return t;
  }();
  float* o = out.data_ptr<float>();
  const uint8_t* in = image.data.data();
  for (size_t i = 0; i < image.data.size(); ++i) o[i] = kTable[in[i]];
  return out;
}

}  // namespace robustness
