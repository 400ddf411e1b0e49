// The per-image transform type shared by the batch loader (robustness/datasets/batch_loader.h),
// which applies it, and the augmentation factories (robustness/augmentation/transform_factory.h),
// which build it from configs.
//
// Two kinds. A whole-image transform maps a decoded image to its output. A crop-first transform
// (RandomResizedCrop, PAPER.md 3.1) first picks a box from the image's size and then works only on
// that box, as uint8: the batch loader asks the dataset to decode just the box
// (Dataset::ImageRegion: a JPEG is decoded only around it), which is where most of an ImageNet
// input pipeline's time goes otherwise. Both kinds also take an already decoded float image, with
// the same result.
#ifndef ROBUSTNESS_DATASETS_IMAGE_TRANSFORM_H_
#define ROBUSTNESS_DATASETS_IMAGE_TRANSFORM_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <type_traits>
#include <utility>

#include <torch/types.h>

#include "robustness/datasets/pixel_box.h"

namespace robustness {

// All randomness must come from `seed` (e.g. a generator made by MakeCpuGenerator(seed)), so the
// same (image, seed) always gives the same output. Must be safe to call concurrently from several
// threads. A default-constructed transform is the identity (and tests false).
class ImageTransform {
 public:
  // float32 [C, H, W] in [0, 1] -> float32 [C', H', W'] in [0, 1].
  using WholeFn = std::function<torch::Tensor(const torch::Tensor& image, uint64_t seed)>;
  // The stored image's height and width -> a box inside it (pixel_box.h).
  using RegionFn = std::function<PixelBox(int64_t height, int64_t width, uint64_t seed)>;
  // That box as uint8 [C, h, w], the stored height and width, the seed -> float32 [C', H', W'].
  using CroppedFn = std::function<torch::Tensor(const torch::Tensor& region, int64_t height,
                                                int64_t width, uint64_t seed)>;

  ImageTransform() = default;
  ImageTransform(std::nullptr_t) {}  // NOLINT: the identity, as an empty std::function
  // A whole-image transform from any callable (const torch::Tensor&, uint64_t) -> torch::Tensor.
  template <typename F, typename = std::enable_if_t<std::is_invocable_r_v<
                            torch::Tensor, const F&, const torch::Tensor&, uint64_t>>>
  ImageTransform(F fn) : whole_(std::move(fn)) {}  // NOLINT: implicit, as std::function

  // A crop-first transform: `region` and `cropped` must agree (cropped gets region's box for the
  // same height, width and seed).
  static ImageTransform CropFirst(RegionFn region, CroppedFn cropped);

  explicit operator bool() const { return whole_ || crop_first(); }
  bool crop_first() const { return static_cast<bool>(cropped_); }

  // Applies the transform to a decoded image (float32 [C, H, W] in [0, 1]). For a crop-first
  // transform: the box is cut from `image` and quantised, round(255 x), as Dataset::ImageRegion
  // does, so a float image that came from uint8 gives exactly the loader's result. The identity
  // returns `image`.
  torch::Tensor operator()(const torch::Tensor& image, uint64_t seed) const;

  // Crop-first only (CHECKed): the two halves, for a caller that decodes the box itself.
  PixelBox Region(int64_t height, int64_t width, uint64_t seed) const;
  torch::Tensor ApplyToRegion(const torch::Tensor& region, int64_t height, int64_t width,
                              uint64_t seed) const;

 private:
  WholeFn whole_;
  RegionFn region_;
  CroppedFn cropped_;
};

}  // namespace robustness

#endif  // ROBUSTNESS_DATASETS_IMAGE_TRANSFORM_H_
