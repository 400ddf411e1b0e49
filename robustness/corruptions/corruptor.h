// The 19 common corruptions of ImageNet-C (Hendrycks & Dietterich, ICLR 2019; PAPER.md 3.10, the
// paper's OOD column), at severities 1-5, on 1- or 3-channel uint8 images of any size >= 8 px,
// one image or a batch. Every constant, algorithm and pitfall: ../shared/research/ood_suite.md;
// the severity constants are the config's table (severity_table.h).
//
// Randomness: image i of a batch draws from its own stream, seeded by
// DeriveSeed(seed, {kCorruptionStream, corruption, severity, first_index + i}), so a corrupted
// data set is the same for any thread count or batching, and reproducible bit for bit. The
// streams are not NumPy's (see internal/random.h): random corruptions match the references in
// distribution, deterministic ones (defocus, zoom, brightness, contrast, pixelate, JPEG,
// saturate, gaussian blur) in value.
//
// Versus the references:
// - Size: imagecorruptions refuses images under 32 px (Fashion-MNIST's 28 x 28 included); here
//   every corruption runs from 8 x 8 up (below 8, pixelate's smallest factor would leave no
//   pixel), and smaller images are InvalidArgument. Nothing in the algorithms is 32-specific.
// - Grey: the references' corrupt() replicates a grey image to RGB and returns RGB, drawing
//   noise independently per channel; here a grey image stays grey and each corruption runs on
//   its one channel (see internal/ops.h; per corruption in README.md of this folder).
// - Output: np.uint8 truncation as the references, with a 2^-20 guard (internal/planes.h).
// - motion blur and snow use imagecorruptions' ImageMagick re-implementation for every table
//   (Hendrycks' scripts call ImageMagick itself); fog's map is at least the image's size.
#ifndef ROBUSTNESS_CORRUPTIONS_CORRUPTOR_H_
#define ROBUSTNESS_CORRUPTIONS_CORRUPTOR_H_

#include <cstdint>
#include <memory>

#include <torch/types.h>

#include "absl/status/statusor.h"
#include "robustness/augmentation/uint8_image.h"
#include "robustness/corruptions/frost_assets.h"
#include "robustness/proto/corruption.pb.h"

namespace robustness {

// The smallest side a corruption accepts.
inline constexpr int64_t kMinCorruptionSide = 8;

class Corruptor {
 public:
  // Validates the config (table set; frost files loaded when listed). Errors name the field.
  static absl::StatusOr<Corruptor> Create(const proto::CorruptionConfig& config);

  // One image, [C, H, W] planar uint8, C in {1, 3}, H, W >= kMinCorruptionSide; `seed` seeds
  // this image's stream directly. Same shape and dtype out. Errors: InvalidArgument for a bad
  // corruption, severity (outside 1..5) or image shape; FailedPrecondition for frost without
  // frost images.
  absl::StatusOr<Uint8Image> Apply(const Uint8Image& image, proto::Corruption corruption,
                                   int severity, uint64_t seed) const;

  // A batch: uint8 [N, C, H, W], or float32 [N, C, H, W] in [0, 1] (quantised to round(255 x)
  // first; the result is v / 255), CPU. Image i uses ImageSeed(seed, corruption, severity,
  // first_index + i). `threads` >= 1 workers split the images. Same shape and dtype out.
  // (Create turns OpenCV's own thread pool off process-wide: parallelism is over images.)
  absl::StatusOr<torch::Tensor> ApplyBatch(const torch::Tensor& images,
                                           proto::Corruption corruption, int severity,
                                           uint64_t seed, int64_t first_index,
                                           int threads) const;

  static uint64_t ImageSeed(uint64_t seed, proto::Corruption corruption, int severity,
                            int64_t index);

  proto::SeverityTable table() const { return table_; }

 private:
  proto::SeverityTable table_ = proto::SEVERITY_TABLE_UNSPECIFIED;
  std::shared_ptr<const FrostAssets> frost_;
};

}  // namespace robustness

#endif  // ROBUSTNESS_CORRUPTIONS_CORRUPTOR_H_
