// The texture dictionary on disk (research/patch_attack.md section 1): K textures per class,
// built once by the feature network (dictionary_builder.h, tools/texture_dictionary) and reused
// by every victim of the Texture Patch Attack.
//
// Format (version 1), one folder:
//   manifest.pbtxt    proto::TextureDictionaryManifest (text format): class count, channels,
//                     texture side S, K, the feature network's name and weights SHA-256, the
//                     build config and its SHA-256, and one entry per class built so far (file,
//                     SHA-256 of its bytes, how many images it came from, its synthesis loss).
//   class_<c>.f32     K x C x S x S little-endian float32, C-order ([K, C, S, S]): pixels in
//                     [0, 1] (not normalised: a victim of any normalisation uses them as they
//                     are, sheet pitfall 4), exactly 4 K C S S bytes.
// Both are written atomically, the class file first, so a folder is always a valid prefix of
// the build and the builder resumes from it. The authors' ImageNet dictionary (iter_9999.pt files
// of normalised 3 x 224 x 224 tensors) converts to this layout through pixel space.
#ifndef ROBUSTNESS_TEXTURES_TEXTURE_DICTIONARY_H_
#define ROBUSTNESS_TEXTURES_TEXTURE_DICTIONARY_H_

#include <cstdint>
#include <map>
#include <string>

#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "robustness/proto/patch_attack.pb.h"

namespace robustness {

inline constexpr int kTextureDictionaryFormat = 1;

// "class_<label>.f32".
std::string TextureClassFileName(int64_t label);

// The manifest of `dir`: NotFound "<dir>/manifest.pbtxt: no texture dictionary here ..." when
// absent, InvalidArgument naming the file and line when it does not parse.
absl::StatusOr<proto::TextureDictionaryManifest> ReadTextureManifest(const std::string& dir);

// Writes class `entry.label()`'s textures (float32 [K, C, S, S] in [0, 1], matching `manifest`)
// to <dir>/class_<label>.f32, fills entry's file and sha256, appends it to `manifest` and rewrites
// manifest.pbtxt, each atomically.
absl::Status AppendTextureClass(const std::string& dir, const torch::Tensor& textures,
                                proto::TextureClassEntry entry,
                                proto::TextureDictionaryManifest* manifest);

// A complete dictionary, opened for a victim with `num_classes` classes, `channels` input
// channels and `image_size` px images. Errors (each naming the folder or file):
//   NotFound: no manifest, or a class file missing;
//   InvalidArgument: another format version, class count, channel count or texture size than the
//     victim's (a dictionary for another data set);
//   FailedPrecondition: classes of its build config (all when it lists none) not built yet (the
//     builder resumes);
//   DataLoss: a class file of the wrong size (truncated), or (on read) another SHA-256 than the
//     manifest's, or values outside [0, 1].
class TextureDictionary {
 public:
  static absl::StatusOr<TextureDictionary> Open(const std::string& dir, int64_t num_classes,
                                                int64_t channels, int64_t image_size);

  const proto::TextureDictionaryManifest& manifest() const { return manifest_; }
  const std::string& dir() const { return dir_; }
  int64_t textures_per_class() const { return manifest_.textures_per_class(); }

  // Class `label`'s textures (NotFound when the dictionary was built without it), float32 [K, C, S, S] pixels, CPU, read and checked (size, SHA-256,
  // range) on every call: at paper scale the whole dictionary (18 GB) does not fit in memory.
  absl::StatusOr<torch::Tensor> Textures(int64_t label) const;

 private:
  TextureDictionary(std::string dir, proto::TextureDictionaryManifest manifest)
      : dir_(std::move(dir)), manifest_(std::move(manifest)) {}
  std::string dir_;
  proto::TextureDictionaryManifest manifest_;
  std::map<int64_t, int> entry_of_label_;
};

}  // namespace robustness

#endif  // ROBUSTNESS_TEXTURES_TEXTURE_DICTIONARY_H_
