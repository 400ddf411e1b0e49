#include "robustness/textures/dictionary_builder.h"

#include <chrono>
#include <vector>

#include <glog/logging.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "robustness/augmentation/pil_resize.h"
#include "robustness/augmentation/uint8_image.h"
#include "robustness/base/atomic_file.h"
#include "robustness/base/progress.h"
#include "robustness/base/seed.h"
#include "robustness/base/sha256.h"
#include "robustness/base/status_macros.h"
#include "robustness/config/text_proto_file.h"
#include "robustness/textures/kmeans.h"
#include "robustness/textures/style_features.h"
#include "robustness/textures/texture_dictionary.h"
#include "robustness/textures/texture_synthesis.h"

namespace robustness {
namespace {

absl::Status Invalid(const std::string& field, const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", message));
}

// The build config without the feature network, whose identity is its weights' SHA-256.
std::string BuildConfigSha(const proto::TextureDictionaryConfig& config) {
  proto::TextureDictionaryConfig c = config;
  c.clear_feature_network();
  return Sha256Hex(ToTextProto(c));
}

absl::StatusOr<torch::Tensor> LoadImage(const Dataset& data, int64_t index, int64_t size) {
  ASSIGN_OR_RETURN(torch::Tensor image, data.Image(index));
  if (image.size(1) == size && image.size(2) == size) return image;
  return ToFloatTensor(PilResize(ToUint8Image(image), size, size, Resample::kBilinear));
}

// Rows of flattened attention Grams of the class's usable images, [n, D].
struct ClassFeatures {
  torch::Tensor rows;
  int candidates = 0, correct = 0, degenerate = 0;
};

absl::StatusOr<ClassFeatures> DescribeClass(VGGImpl& vgg, const Dataset& train, int64_t label,
                                            const std::vector<int64_t>& indices,
                                            const proto::TextureDictionaryConfig& config,
                                            torch::Device device) {
  ClassFeatures out;
  out.candidates = static_cast<int>(indices.size());
  std::vector<torch::Tensor> rows;
  const int64_t batch = config.batch_size();
  for (size_t begin = 0; begin < indices.size(); begin += batch) {
    const size_t end = std::min(indices.size(), begin + batch);
    std::vector<torch::Tensor> images;
    for (size_t i = begin; i < end; ++i) {
      ASSIGN_OR_RETURN(torch::Tensor image, LoadImage(train, indices[i], config.texture_size()));
      images.push_back(image);
    }
    const torch::Tensor x_all = torch::stack(images).to(device);
    // One pass gives both the correctness filter and Grad-CAM (CAM of class `label`, which is
    // each kept image's argmax, as the reference's after its filter).
    const torch::Tensor classes = torch::full({x_all.size(0)}, label, torch::kLong).to(device);
    torch::Tensor logits;
    const torch::Tensor cam_all = GradCam(vgg, x_all, classes, &logits);
    const torch::Tensor correct = logits.argmax(1) == label;
    const torch::Tensor x = x_all.index({correct});
    out.correct += static_cast<int>(x.size(0));
    if (x.size(0) == 0) continue;
    const torch::Tensor cam = cam_all.index({correct});
    torch::NoGradGuard no_grad;
    const std::vector<torch::Tensor> maps =
        vgg.FeatureMaps(x, vgg.StyleLayers(), /*average_pool=*/true);
    std::vector<std::pair<int64_t, int64_t>> sizes;
    for (const torch::Tensor& f : maps) sizes.emplace_back(f.size(2), f.size(3));
    const CamMasks masks = MasksFromCam(cam, sizes, config.cam_threshold());
    const torch::Tensor keep = masks.degenerate.logical_not();
    out.degenerate += static_cast<int>(masks.degenerate.sum().item<int64_t>());
    if (keep.sum().item<int64_t>() == 0) continue;
    std::vector<torch::Tensor> parts;
    for (size_t l = 0; l < maps.size(); ++l) {
      parts.push_back(
          AttentionGram(maps[l].index({keep}), masks.masks[l].index({keep})).flatten(1));
    }
    rows.push_back(torch::cat(parts, 1).cpu());
  }
  if (!rows.empty()) out.rows = torch::cat(rows, 0);
  return out;
}

}  // namespace

absl::Status ValidateTextureDictionaryConfig(const proto::TextureDictionaryConfig& c,
                                             const std::string& field, int64_t num_classes) {
  const std::string f = field.empty() ? "" : field + ".";
  if (c.texture_size() < 4) {
    return Invalid(f + "texture_size", absl::StrCat("must be >= 4, got ", c.texture_size()));
  }
  if (c.max_images_per_class() < 0) {
    return Invalid(f + "max_images_per_class",
                   absl::StrCat("must be >= 0 (0 = all), got ", c.max_images_per_class()));
  }
  if (!(c.cam_threshold() > 0 && c.cam_threshold() <= 1)) {
    return Invalid(f + "cam_threshold", absl::StrCat("must be in (0, 1], got ", c.cam_threshold()));
  }
  if (c.textures_per_class() < 1) {
    return Invalid(f + "textures_per_class",
                   absl::StrCat("must be >= 1, got ", c.textures_per_class()));
  }
  if (c.max_images_per_class() > 0 && c.max_images_per_class() < c.textures_per_class()) {
    return Invalid(f + "max_images_per_class",
                   absl::StrCat(c.max_images_per_class(), " images cannot make ",
                                c.textures_per_class(), " clusters (textures_per_class)"));
  }
  if (c.kmeans().restarts() < 1) {
    return Invalid(f + "kmeans.restarts", absl::StrCat("must be >= 1, got ", c.kmeans().restarts()));
  }
  if (c.kmeans().max_iterations() < 1) {
    return Invalid(f + "kmeans.max_iterations",
                   absl::StrCat("must be >= 1, got ", c.kmeans().max_iterations()));
  }
  if (!(c.kmeans().tolerance() >= 0)) {
    return Invalid(f + "kmeans.tolerance",
                   absl::StrCat("must be >= 0, got ", c.kmeans().tolerance()));
  }
  if (c.synthesis().iterations() < 1) {
    return Invalid(f + "synthesis.iterations",
                   absl::StrCat("must be >= 1, got ", c.synthesis().iterations()));
  }
  if (!(c.synthesis().learning_rate() > 0)) {
    return Invalid(f + "synthesis.learning_rate",
                   absl::StrCat("must be > 0, got ", c.synthesis().learning_rate()));
  }
  if (!(c.synthesis().loss_scale() > 0)) {
    return Invalid(f + "synthesis.loss_scale",
                   absl::StrCat("must be > 0, got ", c.synthesis().loss_scale()));
  }
  if (c.batch_size() < 1) {
    return Invalid(f + "batch_size", absl::StrCat("must be >= 1, got ", c.batch_size()));
  }
  for (int i = 0; i < c.classes_size(); ++i) {
    if (c.classes(i) < 0 || c.classes(i) >= num_classes) {
      return Invalid(absl::StrCat(f, "classes[", i, "]"),
                     absl::StrCat(c.classes(i), " outside [0, ", num_classes, ")"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<proto::TextureDictionaryManifest> BuildTextureDictionary(
    const std::string& dir, VGGImpl& vgg, const std::string& feature_network,
    const std::string& feature_weights_sha256, const Dataset& train, const proto::TextureDictionaryConfig& config,
    const DictionaryBuildOptions& options) {
  RETURN_IF_ERROR(ValidateTextureDictionaryConfig(config, "dictionary", train.num_classes()));
  if (vgg.options().num_classes() != train.num_classes()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "dictionary.feature_network: ", vgg.options().num_classes(), " classes, the data has ",
        train.num_classes()));
  }
  CHECK(!vgg.is_training()) << "the feature network must be in eval mode";
  RETURN_IF_ERROR(EnsureWritableDirectory(dir));
  proto::TextureDictionaryManifest manifest;
  absl::StatusOr<proto::TextureDictionaryManifest> existing = ReadTextureManifest(dir);
  const std::string config_sha = BuildConfigSha(config);
  if (existing.ok()) {
    if (existing->build_config_sha256() != config_sha ||
        existing->feature_weights_sha256() != feature_weights_sha256) {
      return absl::FailedPreconditionError(absl::StrCat(
          dir, ": holds a texture dictionary of another build config or feature network (",
          existing->build_config_sha256().substr(0, 16), "/",
          existing->feature_weights_sha256().substr(0, 16), ", this build: ",
          config_sha.substr(0, 16), "/", feature_weights_sha256.substr(0, 16),
          "); it is never overwritten: choose another folder"));
    }
    manifest = *existing;
  } else if (absl::IsNotFound(existing.status())) {
    manifest.set_format_version(kTextureDictionaryFormat);
    manifest.set_num_classes(static_cast<int32_t>(train.num_classes()));
    ASSIGN_OR_RETURN(torch::Tensor probe, LoadImage(train, 0, config.texture_size()));
    manifest.set_channels(static_cast<int32_t>(probe.size(0)));
    manifest.set_texture_size(config.texture_size());
    manifest.set_textures_per_class(config.textures_per_class());
    manifest.set_feature_network(feature_network);
    manifest.set_feature_weights_sha256(feature_weights_sha256);
    manifest.set_build_config_sha256(config_sha);
    *manifest.mutable_build_config() = config;
  } else {
    return existing.status();
  }
  std::vector<int64_t> classes(config.classes().begin(), config.classes().end());
  if (classes.empty()) {
    for (int64_t c = 0; c < train.num_classes(); ++c) classes.push_back(c);
  }
  std::vector<bool> done(train.num_classes(), false);
  for (const auto& e : manifest.classes()) done[e.label()] = true;
  std::vector<std::vector<int64_t>> by_class(train.num_classes());
  for (int64_t i = 0; i < train.size(); ++i) {
    const int64_t label = train.Label(i);
    if (config.max_images_per_class() == 0 ||
        static_cast<int64_t>(by_class[label].size()) < config.max_images_per_class()) {
      by_class[label].push_back(i);
    }
  }
  int64_t todo = 0;
  for (int64_t c : classes) todo += !done[c];
  ProgressLine progress("texture dictionary", std::max<int64_t>(todo, 1), "class");
  int64_t built = 0;
  const std::vector<int64_t> layers = vgg.StyleLayers();
  for (int64_t label : classes) {
    if (done[label]) continue;
    const auto start = std::chrono::steady_clock::now();
    ASSIGN_OR_RETURN(ClassFeatures features, DescribeClass(vgg, train, label, by_class[label],
                                                           config, options.device));
    const int64_t usable = features.rows.defined() ? features.rows.size(0) : 0;
    if (usable < config.textures_per_class()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "dictionary: class ", label, " has ", usable, " usable images (", features.candidates,
          " candidates, ", features.correct, " classified correctly by the feature network, ",
          features.degenerate, " with a constant Grad-CAM), fewer than textures_per_class ",
          config.textures_per_class()));
    }
    torch::Generator kmeans_gen =
        MakeCpuGenerator(DeriveSeed(config.seed(), {kTextureStream, uint64_t(label), 0}));
    const KMeansResult clusters =
        KMeans(features.rows, config.textures_per_class(), config.kmeans(), kmeans_gen);
    // Centres back into per-layer targets.
    std::vector<torch::Tensor> targets;
    int64_t offset = 0;
    for (size_t l = 0; l < layers.size(); ++l) {
      const int64_t c = vgg.options().stage_widths()[l];
      targets.push_back(clusters.centers.narrow(1, offset, c * c)
                            .reshape({-1, c, c})
                            .to(options.device)
                            .contiguous());
      offset += c * c;
    }
    CHECK_EQ(offset, features.rows.size(1));
    torch::Generator synth_gen =
        MakeCpuGenerator(DeriveSeed(config.seed(), {kTextureStream, uint64_t(label), 1}));
    const SynthesisResult synthesis =
        SynthesizeTextures(vgg, targets, config.texture_size(), config.synthesis(), synth_gen,
                           [&](int64_t done_it, int64_t total) {
                             progress.Update(built, built, absl::StrFormat(
                                 "class %d: synthesis %d/%d", label, done_it, total));
                           });
    proto::TextureClassEntry entry;
    entry.set_label(static_cast<int32_t>(label));
    entry.set_candidate_images(features.candidates);
    entry.set_correct_images(features.correct);
    entry.set_degenerate_cams(features.degenerate);
    entry.set_synthesis_loss(synthesis.final_loss.mean().item<double>());
    entry.set_seconds(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    const std::string line = absl::StrFormat(
        "class %d: %d/%d images correct, %d constant CAMs, loss %.4g, %.1f s", label,
        features.correct, features.candidates, features.degenerate, entry.synthesis_loss(),
        entry.seconds());
    RETURN_IF_ERROR(AppendTextureClass(dir, synthesis.textures, entry, &manifest));
    ++built;
    progress.Update(built, built, line);
    if (options.stop_after_classes >= 0 && built >= options.stop_after_classes && built < todo) {
      return absl::CancelledError(absl::StrCat("stopped after ", built, " classes (test hook)"));
    }
  }
  return manifest;
}

}  // namespace robustness
