#include "robustness/datasets/image_transform.h"

#include <ATen/ATen.h>

#include "glog/logging.h"
#include "robustness/datasets/dataset.h"

namespace robustness {

ImageTransform ImageTransform::CropFirst(RegionFn region, CroppedFn cropped) {
  CHECK(region && cropped);
  ImageTransform t;
  t.region_ = std::move(region);
  t.cropped_ = std::move(cropped);
  return t;
}

torch::Tensor ImageTransform::operator()(const torch::Tensor& image, uint64_t seed) const {
  if (whole_) return whole_(image, seed);
  if (!crop_first()) return image;
  CHECK_EQ(image.dim(), 3) << "image must be [C, H, W], got " << image.sizes();
  const int64_t height = image.size(1), width = image.size(2);
  const torch::Tensor region = QuantizedRegion(image, Region(height, width, seed));
  return cropped_(region, height, width, seed);
}

PixelBox ImageTransform::Region(int64_t height, int64_t width, uint64_t seed) const {
  CHECK(crop_first()) << "Region() of a whole-image transform";
  const PixelBox box = region_(height, width, seed);
  CHECK(BoxInside(box, height, width)) << BoxOutsideMessage(box, height, width);
  return box;
}

torch::Tensor ImageTransform::ApplyToRegion(const torch::Tensor& region, int64_t height,
                                            int64_t width, uint64_t seed) const {
  CHECK(crop_first()) << "ApplyToRegion() of a whole-image transform";
  CHECK_EQ(region.scalar_type(), at::kByte);
  return cropped_(region, height, width, seed);
}

}  // namespace robustness
