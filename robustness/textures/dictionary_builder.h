// Builds a texture dictionary (research/patch_attack.md section 1; format: texture_dictionary.h)
// with a VGG feature network, class by class, resumably:
//   1. candidates: the first max_images_per_class training images of the class (all when 0),
//      resized to texture_size when their size differs (PIL bilinear, aspect ratio not kept);
//   2. the ones the feature network classifies correctly (eval mode);
//   3. per image, a Grad-CAM mask at each style layer and the attention Gram matrices of the
//      average-pooled VGG (style_features.h), flattened and concatenated in layer order (both
//      triangles, no weighting: sheet section 1); images with a constant Grad-CAM are skipped;
//   4. K-means into textures_per_class clusters (kmeans.h);
//   5. one texture per centre by Gram matching, the class's textures in one batch
//      (texture_synthesis.h).
// The correctness filter of step 2 and the Grad-CAM of step 3 share one forward pass per batch
// (the reference runs them as separate passes). Each finished class
// is appended to the folder atomically; a rerun with the same config and feature network skips
// the classes already there, so an interrupted build resumes and ends with the same files.
#ifndef ROBUSTNESS_TEXTURES_DICTIONARY_BUILDER_H_
#define ROBUSTNESS_TEXTURES_DICTIONARY_BUILDER_H_

#include <cstdint>
#include <string>

#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "robustness/datasets/dataset.h"
#include "robustness/models/vgg.h"
#include "robustness/proto/patch_attack.pb.h"

namespace robustness {

// Range checks of a build config (everything but the feature network, which its owner checks);
// errors read "<field>.<subfield>: ...". num_classes: the data's, for `classes`.
absl::Status ValidateTextureDictionaryConfig(const proto::TextureDictionaryConfig& config,
                                             const std::string& field, int64_t num_classes);

struct DictionaryBuildOptions {
  torch::Device device = torch::kCPU;
  int stop_after_classes = -1;  // test hook: return Cancelled after building this many
};

// Builds (or finishes) the dictionary in `dir` for `train`'s classes. `vgg` is the feature
// network, in eval mode on options.device; `feature_network` names it in the manifest
// (ArchitectureName) and feature_weights_sha256 identifies its weights (WeightsSha256). FailedPrecondition when `dir` holds a dictionary of another config or
// feature network (never overwritten); InvalidArgument when a class has fewer usable images than
// textures_per_class (naming the class and the counts). Returns the final manifest.
absl::StatusOr<proto::TextureDictionaryManifest> BuildTextureDictionary(
    const std::string& dir, VGGImpl& vgg, const std::string& feature_network,
    const std::string& feature_weights_sha256, const Dataset& train, const proto::TextureDictionaryConfig& config,
    const DictionaryBuildOptions& options = {});

}  // namespace robustness

#endif  // ROBUSTNESS_TEXTURES_DICTIONARY_BUILDER_H_
