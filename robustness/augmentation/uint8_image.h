// A planar 8-bit image, the layout Pillow-equivalent ops (pil_ops.h) work on: RandAugment is
// defined on PIL uint8 images (timm_recipes.md section 1), so the float pipeline quantises to it
// and back, as a PIL pipeline does after its resize.
#ifndef ROBUSTNESS_AUGMENTATION_UINT8_IMAGE_H_
#define ROBUSTNESS_AUGMENTATION_UINT8_IMAGE_H_

#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace robustness {

// channels x height x width values, channel-major (plane c starts at c * height * width).
struct Uint8Image {
  int64_t channels = 0;
  int64_t height = 0;
  int64_t width = 0;
  std::vector<uint8_t> data;

  Uint8Image() = default;
  Uint8Image(int64_t c, int64_t h, int64_t w, uint8_t value = 0)
      : channels(c), height(h), width(w), data(static_cast<size_t>(c * h * w), value) {}
  int64_t plane_size() const { return height * width; }
  uint8_t* plane(int64_t c) { return data.data() + c * plane_size(); }
  const uint8_t* plane(int64_t c) const { return data.data() + c * plane_size(); }
};

// float32 [C, H, W] in [0, 1] (CPU, any strides) -> uint8 round(255 x), clamped to [0, 255]. Exact
// for images that came from uint8 (x = v / 255). CHECKs the shape is 3-D.
Uint8Image ToUint8Image(const torch::Tensor& image);

// uint8 [C, H, W] tensor (CPU, any strides; CHECKed) -> the same values, planar.
Uint8Image Uint8ImageFromBytes(const torch::Tensor& bytes);

// uint8 -> float32 [C, H, W], v / 255.
torch::Tensor ToFloatTensor(const Uint8Image& image);

}  // namespace robustness

#endif  // ROBUSTNESS_AUGMENTATION_UINT8_IMAGE_H_
