// PNG and JPEG files <-> image tensors: decoding for ImageNet-layout folders (PAPER.md 3.1:
// ImageNet, ImageNet-C, Stylized-ImageNet, ImageNet-A/-Sketch are JPEG or PNG files), and encoding
// for figures (adversarial examples, corruptions) and for tests that build small folders.
//
// Decoding matches what torchvision's ImageFolder does with PIL's Image.convert("RGB"): grayscale
// is replicated to three channels, palettes are expanded, an alpha channel is dropped (not
// composited), CMYK/YCCK JPEGs are converted to RGB. The JPEG decoder is libjpeg-turbo's default
// (islow IDCT, fancy upsampling), as PIL's is, so pixels agree with PIL up to libjpeg version
// differences.
#ifndef ROBUSTNESS_DATASETS_IMAGE_CODEC_H_
#define ROBUSTNESS_DATASETS_IMAGE_CODEC_H_

#include <string>

#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "robustness/datasets/pixel_box.h"

namespace robustness {

// Decodes the PNG or JPEG file at `path` (format found from its first bytes, not its extension)
// into float32 [3, H, W] in [0, 1] (pixel / 255), CPU. Thread-safe.
//
// Errors: NotFound if `path` does not exist; Unavailable if it cannot be read; DataLoss, naming
// `path`, if it is neither PNG nor JPEG, corrupt, or truncated (a JPEG that ends early is an error
// here, as in PIL without LOAD_TRUNCATED_IMAGES; libjpeg's other recoverable warnings, such as
// "extraneous bytes before marker", are tolerated as PIL tolerates them).
absl::StatusOr<torch::Tensor> DecodeImageFile(const std::string& path);

// As DecodeImageFile, but only the box `choose(H, W)` returns (H x W the file's size, read from
// its header; a box outside the image is a CHECK failure), as uint8 [3, h, w], planar, the values
// DecodeImageFile's would be x 255, exactly. For crop-first transforms (RandomResizedCrop): a JPEG
// is decoded only where needed (rows above and below the box are entropy-decoded and skipped, the
// IDCT runs only on the columns' iMCUs), a PNG is decoded whole and cut. Same errors as
// DecodeImageFile; a truncated JPEG is an error even when the box lies above the damage.
//
// Example: DecodeImageFileRegion(path, [](int64_t h, int64_t w) { return PixelBox{0, 0, h / 2, w}; })
absl::StatusOr<torch::Tensor> DecodeImageFileRegion(const std::string& path,
                                                    const RegionChooser& choose);

// Writes `image` (float32 [C, H, W], C = 1 or 3, values in [0, 1]; CHECKed except the range,
// which is clamped) as an 8-bit grayscale or RGB PNG, pixel = round(255 * value). Decoding the
// file gives back the rounded values exactly. Errors name `path`.
absl::Status WritePng(const std::string& path, const torch::Tensor& image);

// As WritePng, but a baseline JPEG with `quality` in [1, 100] (CHECKed); lossy.
absl::Status WriteJpeg(const std::string& path, const torch::Tensor& image, int quality);

}  // namespace robustness

#endif  // ROBUSTNESS_DATASETS_IMAGE_CODEC_H_
