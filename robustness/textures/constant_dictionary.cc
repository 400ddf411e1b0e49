#include "robustness/textures/constant_dictionary.h"

#include <filesystem>
#include <system_error>

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "robustness/base/status_macros.h"
#include "robustness/textures/texture_dictionary.h"

namespace robustness {

absl::Status WriteConstantTextureDictionary(const std::string& dir,
                                            const std::vector<float>& class_values,
                                            int64_t per_class, int64_t size) {
  std::error_code error;
  std::filesystem::remove_all(dir, error);
  std::filesystem::create_directories(dir, error);
  if (error) return absl::InternalError(absl::StrCat(dir, ": ", error.message()));
  proto::TextureDictionaryManifest manifest;
  manifest.set_format_version(kTextureDictionaryFormat);
  manifest.set_num_classes(static_cast<int32_t>(class_values.size()));
  manifest.set_channels(1);
  manifest.set_texture_size(static_cast<int32_t>(size));
  manifest.set_textures_per_class(static_cast<int32_t>(per_class));
  for (size_t c = 0; c < class_values.size(); ++c) {
    proto::TextureClassEntry entry;
    entry.set_label(static_cast<int32_t>(c));
    RETURN_IF_ERROR(AppendTextureClass(dir, torch::full({per_class, 1, size, size}, class_values[c]),
                                       entry, &manifest));
  }
  return absl::OkStatus();
}

}  // namespace robustness
