// The per-image transform type shared by the batch loader (robustness/datasets/batch_loader.h),
// which applies it, and the augmentation factories (robustness/augmentation/transform_factory.h),
// which build it from configs.
#ifndef ROBUSTNESS_DATASETS_IMAGE_TRANSFORM_H_
#define ROBUSTNESS_DATASETS_IMAGE_TRANSFORM_H_

#include <cstdint>
#include <functional>

#include <torch/types.h>

namespace robustness {

// Maps one image float32 [C, H, W] in [0, 1] to a transformed image (float32 [C', H', W'] in
// [0, 1]). All randomness must come from `seed` (e.g. a generator made by MakeCpuGenerator(seed)),
// so that the same (image, seed) always gives the same output. Must be safe to call concurrently
// from several threads. An empty std::function means identity.
using ImageTransform = std::function<torch::Tensor(const torch::Tensor& image, uint64_t seed)>;

}  // namespace robustness

#endif  // ROBUSTNESS_DATASETS_IMAGE_TRANSFORM_H_
