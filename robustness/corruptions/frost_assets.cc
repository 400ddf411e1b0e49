#include "robustness/corruptions/frost_assets.h"

#include <cmath>
#include <filesystem>

#include <opencv2/imgproc.hpp>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "robustness/base/atomic_file.h"
#include "robustness/corruptions/severity_table.h"
#include "robustness/datasets/image_codec.h"

namespace robustness {
namespace {

uint32_t BigEndian32(const std::string& s, size_t offset) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(s[offset])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(s[offset + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(s[offset + 2])) << 8) |
         static_cast<uint32_t>(static_cast<uint8_t>(s[offset + 3]));
}

Uint8Image ResizeWithOpenCv(const Uint8Image& image, int64_t height, int64_t width,
                            int interpolation) {
  cv::Mat src(static_cast<int>(image.height), static_cast<int>(image.width), CV_8UC3);
  const int64_t n = image.plane_size();
  for (int64_t i = 0; i < n; ++i) {
    for (int c = 0; c < 3; ++c) src.data[i * 3 + c] = image.plane(c)[i];
  }
  cv::Mat dst;
  cv::resize(src, dst, cv::Size(static_cast<int>(width), static_cast<int>(height)), 0, 0,
             interpolation);
  Uint8Image out(3, height, width);
  for (int64_t i = 0; i < height * width; ++i) {
    for (int c = 0; c < 3; ++c) out.plane(c)[i] = dst.data[i * 3 + c];
  }
  return out;
}

}  // namespace

absl::StatusOr<Uint8Image> ReadGimpPattern(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadFileToString(path);
  if (!bytes.ok()) return bytes.status();
  const std::string& s = *bytes;
  if (s.size() < 24 || s.compare(20, 4, "GPAT") != 0) {
    return absl::DataLossError(absl::StrCat(path, ": not a GIMP pattern (no GPAT magic)"));
  }
  const uint32_t header = BigEndian32(s, 0), width = BigEndian32(s, 8),
                 height = BigEndian32(s, 12), bpp = BigEndian32(s, 16);
  if (bpp < 1 || bpp > 4 || width == 0 || height == 0 ||
      s.size() < header + static_cast<size_t>(width) * height * bpp) {
    return absl::DataLossError(absl::StrCat(path, ": truncated or malformed GIMP pattern (", width,
                                            " x ", height, " x ", bpp, ")"));
  }
  Uint8Image out(3, height, width);
  const uint8_t* p = reinterpret_cast<const uint8_t*>(s.data()) + header;
  for (int64_t i = 0; i < static_cast<int64_t>(width) * height; ++i) {
    for (int c = 0; c < 3; ++c) out.plane(c)[i] = p[i * bpp + (bpp >= 3 ? c : 0)];
  }
  return out;
}

absl::StatusOr<std::shared_ptr<const FrostAssets>> FrostAssets::Load(
    const proto::FrostAssets& config, proto::SeverityTable table) {
  if (config.files().empty()) {
    return absl::InvalidArgumentError("corruption.frost.files is empty: name the frost images");
  }
  if (config.scale_override() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "corruption.frost.scale_override must be >= 0, got ", config.scale_override()));
  }
  std::error_code error;
  if (!std::filesystem::is_directory(config.folder(), error)) {
    return absl::NotFoundError(absl::StrCat("corruption.frost.folder '", config.folder(),
                                            "' is not a folder (the frost photographs)"));
  }
  std::shared_ptr<FrostAssets> assets(new FrostAssets);
  assets->table_ = table;
  assets->scale_override_ = config.scale_override();
  for (const std::string& file : config.files()) {
    const std::string path = (std::filesystem::path(config.folder()) / file).string();
    if (!std::filesystem::exists(path, error)) {
      return absl::NotFoundError(
          absl::StrCat("frost image '", path, "' (corruption.frost.files) does not exist"));
    }
    if (absl::EndsWith(file, ".pat")) {
      absl::StatusOr<Uint8Image> image = ReadGimpPattern(path);
      if (!image.ok()) return image.status();
      assets->images_.push_back(std::move(*image));
    } else {
      absl::StatusOr<torch::Tensor> decoded = DecodeImageFileRegion(
          path, [](int64_t h, int64_t w) { return PixelBox{0, 0, h, w}; });
      if (!decoded.ok()) return decoded.status();
      assets->images_.push_back(Uint8ImageFromBytes(*decoded));
    }
    assets->paths_.push_back(path);
  }
  return std::shared_ptr<const FrostAssets>(std::move(assets));
}

absl::StatusOr<const Uint8Image*> FrostAssets::Resized(int index, int64_t height,
                                                        int64_t width) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto key = std::make_tuple(index, height, width);
  auto it = cache_.find(key);
  if (it != cache_.end()) return it->second.get();
  const Uint8Image& frost = images_.at(index);
  const int64_t fh = frost.height, fw = frost.width;
  Uint8Image resized;
  auto by_factor = [&](double f, int interpolation) {
    // cv2.resize(frost, (0, 0), fx=f, fy=f): dsize = (round(W f), round(H f)).
    return ResizeWithOpenCv(frost, std::max<int64_t>(1, std::lround(fh * f)),
                            std::max<int64_t>(1, std::lround(fw * f)), interpolation);
  };
  if (scale_override_ > 0) {
    resized = by_factor(scale_override_, cv::INTER_LINEAR);
  } else if (table_ == proto::IMAGECORRUPTIONS) {
    double s = 1.0;
    if (fh < height && fw >= width) s = static_cast<double>(height) / fh;
    if (fh >= height && fw < width) s = static_cast<double>(width) / fw;
    if (fh < height && fw < width) {
      s = std::max(static_cast<double>(height) / fh, static_cast<double>(width) / fw);
    }
    s *= 1.1;
    resized = ResizeWithOpenCv(frost, static_cast<int64_t>(std::ceil(fh * s)),
                               static_cast<int64_t>(std::ceil(fw * s)), cv::INTER_CUBIC);
  } else if (table_ == proto::CIFAR10_C) {
    resized = by_factor(0.2, cv::INTER_LINEAR);
  } else if (table_ == proto::TINY_IMAGENET_C) {
    resized = by_factor(0.3, cv::INTER_LINEAR);
  } else {
    resized = frost;
  }
  if (resized.height < height || resized.width < width) {
    return absl::FailedPreconditionError(absl::StrCat(
        "frost image '", paths_.at(index), "' is ", resized.height, " x ", resized.width,
        " after the ",
        scale_override_ > 0 ? "scale_override" : SeverityTableName(table_), " rescale, smaller than the ", height, " x ",
        width, " image; set corruption.frost.scale_override"));
  }
  auto owned = std::make_unique<Uint8Image>(std::move(resized));
  const Uint8Image* raw = owned.get();
  cache_.emplace(key, std::move(owned));
  return raw;
}

}  // namespace robustness
