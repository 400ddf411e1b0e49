#include "robustness/datasets/dataset.h"

#include <ATen/ATen.h>

#include "glog/logging.h"

namespace robustness {

torch::Tensor QuantizedRegion(const torch::Tensor& image, const PixelBox& box) {
  CHECK_EQ(image.dim(), 3) << "image must be [C, H, W], got " << image.sizes();
  CHECK(BoxInside(box, image.size(1), image.size(2)))
      << BoxOutsideMessage(box, image.size(1), image.size(2));
  return image.narrow(1, box.top, box.height)
      .narrow(2, box.left, box.width)
      .mul(255.0)
      .round_()
      .clamp_(0, 255)
      .to(at::kByte)
      .contiguous();
}

absl::StatusOr<torch::Tensor> Dataset::ImageRegion(int64_t index,
                                                   const RegionChooser& choose) const {
  absl::StatusOr<torch::Tensor> image = Image(index);
  if (!image.ok()) return image.status();
  CHECK_EQ(image->dim(), 3) << "image must be [C, H, W], got " << image->sizes();
  return QuantizedRegion(*image, choose(image->size(1), image->size(2)));
}

}  // namespace robustness
