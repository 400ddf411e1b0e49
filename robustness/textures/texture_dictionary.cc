#include "robustness/textures/texture_dictionary.h"

#include <sys/stat.h>

#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "robustness/base/atomic_file.h"
#include "robustness/base/sha256.h"
#include "robustness/base/status_macros.h"
#include "robustness/config/text_proto_file.h"

namespace robustness {
namespace {

std::string ManifestPath(const std::string& dir) { return dir + "/manifest.pbtxt"; }

int64_t ClassBytes(const proto::TextureDictionaryManifest& m) {
  return int64_t{4} * m.textures_per_class() * m.channels() * m.texture_size() * m.texture_size();
}

}  // namespace

std::string TextureClassFileName(int64_t label) { return absl::StrCat("class_", label, ".f32"); }

absl::StatusOr<proto::TextureDictionaryManifest> ReadTextureManifest(const std::string& dir) {
  const std::string path = ManifestPath(dir);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat(
        path, ": no texture dictionary here (build it with "
              "`bazel run //tools/texture_dictionary -- --config=... --output_dir=", dir, "`)"));
  }
  proto::TextureDictionaryManifest manifest;
  RETURN_IF_ERROR(ReadTextProtoFile(path, &manifest));
  return manifest;
}

absl::Status AppendTextureClass(const std::string& dir, const torch::Tensor& textures,
                                proto::TextureClassEntry entry,
                                proto::TextureDictionaryManifest* manifest) {
  const torch::Tensor t = textures.to(torch::kCPU, torch::kFloat).contiguous();
  const std::vector<int64_t> want = {manifest->textures_per_class(), manifest->channels(),
                                     manifest->texture_size(), manifest->texture_size()};
  if (t.sizes().vec() != want) {
    return absl::InternalError(absl::StrCat("class ", entry.label(), ": textures of shape ",
                                            c10::str(t.sizes()), ", the manifest says ",
                                            c10::str(c10::IntArrayRef(want))));
  }
  const std::string bytes(static_cast<const char*>(t.data_ptr()), t.numel() * sizeof(float));
  entry.set_file(TextureClassFileName(entry.label()));
  entry.set_sha256(Sha256Hex(bytes));
  RETURN_IF_ERROR(WriteFileAtomically(absl::StrCat(dir, "/", entry.file()), bytes));
  *manifest->add_classes() = std::move(entry);
  return WriteFileAtomically(ManifestPath(dir), ToTextProto(*manifest));
}

absl::StatusOr<TextureDictionary> TextureDictionary::Open(const std::string& dir,
                                                          int64_t num_classes, int64_t channels,
                                                          int64_t image_size) {
  ASSIGN_OR_RETURN(proto::TextureDictionaryManifest m, ReadTextureManifest(dir));
  const std::string where = ManifestPath(dir);
  auto mismatch = [&](const char* what, int64_t file, int64_t victim) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": ", what, " ", file, ", the victim's is ", victim,
        " (a dictionary built for other data; build one for this data set)"));
  };
  if (m.format_version() != kTextureDictionaryFormat) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": format_version ", m.format_version(),
                                                   ", this code reads ",
                                                   kTextureDictionaryFormat));
  }
  if (m.num_classes() != num_classes) return mismatch("num_classes", m.num_classes(), num_classes);
  if (m.channels() != channels) return mismatch("channels", m.channels(), channels);
  if (m.texture_size() != image_size) {
    return mismatch("texture_size", m.texture_size(), image_size);
  }
  if (m.textures_per_class() < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": textures_per_class ", m.textures_per_class(), " must be >= 1"));
  }
  TextureDictionary dict(dir, m);
  for (int i = 0; i < m.classes_size(); ++i) {
    const proto::TextureClassEntry& e = m.classes(i);
    if (e.label() < 0 || e.label() >= num_classes) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": classes[", i, "].label ", e.label(), " outside [0, ",
                       num_classes, ")"));
    }
    const std::string path = absl::StrCat(dir, "/", e.file());
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      return absl::NotFoundError(absl::StrCat(path, ": class ", e.label(),
                                              "'s textures are missing (listed in ", where, ")"));
    }
    if (st.st_size != ClassBytes(m)) {
      return absl::DataLossError(absl::StrCat(path, ": ", st.st_size, " bytes, expected ",
                                              ClassBytes(m), " (", m.textures_per_class(), " x ",
                                              m.channels(), " x ", m.texture_size(), " x ",
                                              m.texture_size(), " float32): truncated"));
    }
    dict.entry_of_label_[e.label()] = i;
  }
  // Complete: every class the build config lists (all when it lists none) is there.
  std::vector<int64_t> wanted(m.build_config().classes().begin(), m.build_config().classes().end());
  if (wanted.empty()) {
    for (int64_t c = 0; c < num_classes; ++c) wanted.push_back(c);
  }
  for (int64_t c : wanted) {
    if (dict.entry_of_label_.count(c) == 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          dir, ": the texture dictionary has ", dict.entry_of_label_.size(), " of its ",
          wanted.size(), " classes (class ", c,
          " is missing); the builder resumes where it stopped"));
    }
  }
  return dict;
}

absl::StatusOr<torch::Tensor> TextureDictionary::Textures(int64_t label) const {
  auto it = entry_of_label_.find(label);
  if (it == entry_of_label_.end()) {
    return absl::NotFoundError(absl::StrCat(dir_, ": no textures for class ", label,
                                            " (not among the dictionary's classes)"));
  }
  const proto::TextureClassEntry& e = manifest_.classes(it->second);
  const std::string path = absl::StrCat(dir_, "/", e.file());
  ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  if (static_cast<int64_t>(bytes.size()) != ClassBytes(manifest_)) {
    return absl::DataLossError(absl::StrCat(path, ": ", bytes.size(), " bytes, expected ",
                                            ClassBytes(manifest_), ": truncated"));
  }
  if (Sha256Hex(bytes) != e.sha256()) {
    return absl::DataLossError(
        absl::StrCat(path, ": SHA-256 ", Sha256Hex(bytes), " differs from the manifest's ",
                     e.sha256(), " (the file was changed or damaged)"));
  }
  torch::Tensor t = torch::empty({manifest_.textures_per_class(), manifest_.channels(),
                                  manifest_.texture_size(), manifest_.texture_size()},
                                 torch::kFloat);
  std::memcpy(t.data_ptr(), bytes.data(), bytes.size());
  if (!(t.min().item<float>() >= 0.0f && t.max().item<float>() <= 1.0f)) {
    return absl::DataLossError(absl::StrCat(path, ": values outside [0, 1] (or NaN)"));
  }
  return t;
}

}  // namespace robustness
