// The frost photographs the frost corruption overlays (ood_suite.md 1.5), read once from a
// configured folder, and their per-image-size rescaled versions, cached.
//
// The references ship six photographs (frost1.png .. frost6.jpg; frost1-5 are drawn). They are
// not a Debian package, so the project never needs them: users point `frost.folder` at their
// copy. The embedded Fashion-MNIST default uses a documented substitute, the ice textures of
// Debian's gimp-data-extras (GIMP .pat files; see experiments/table1_imagenet_c/README.md for its
// effect on the numbers).
#ifndef ROBUSTNESS_CORRUPTIONS_FROST_ASSETS_H_
#define ROBUSTNESS_CORRUPTIONS_FROST_ASSETS_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "robustness/augmentation/uint8_image.h"
#include "robustness/proto/corruption.pb.h"

namespace robustness {

class FrostAssets {
 public:
  // Reads every file of `config.files` in `config.folder` (PNG, JPEG: alpha dropped, grey
  // replicated, as cv2.imread; or a GIMP pattern). Errors: NotFound for a missing folder or file
  // (named), DataLoss for an undecodable one, InvalidArgument for an empty `files` list or a
  // negative scale_override.
  static absl::StatusOr<std::shared_ptr<const FrostAssets>> Load(const proto::FrostAssets& config,
                                                                 proto::SeverityTable table);

  int count() const { return static_cast<int>(images_.size()); }
  // RGB [3, H_f, W_f] as read.
  const Uint8Image& original(int index) const { return images_.at(index); }

  // Frost image `index` resized by the rule for an image of height x width: scale_override if
  // set (bilinear), else imagecorruptions' cover-then-x1.1 (bicubic), IN-C's none, CIFAR's x0.2
  // or Tiny's x0.3 (bilinear), with OpenCV's resize as the references. FailedPrecondition (naming
  // the file and both sizes) when the result does not cover the image. Thread-safe; cached.
  absl::StatusOr<const Uint8Image*> Resized(int index, int64_t height, int64_t width) const;

 private:
  FrostAssets() = default;
  std::vector<std::string> paths_;
  std::vector<Uint8Image> images_;
  proto::SeverityTable table_ = proto::SEVERITY_TABLE_UNSPECIFIED;
  double scale_override_ = 0.0;
  mutable std::mutex mu_;
  mutable std::map<std::tuple<int, int64_t, int64_t>, std::unique_ptr<Uint8Image>> cache_;
};

// A GIMP pattern file (.pat: big-endian header size, version 1, width, height, bytes per pixel
// 1-4, magic "GPAT", name; then the pixels) as RGB [3, H, W]; grey replicated, alpha dropped.
absl::StatusOr<Uint8Image> ReadGimpPattern(const std::string& path);

}  // namespace robustness

#endif  // ROBUSTNESS_CORRUPTIONS_FROST_ASSETS_H_
