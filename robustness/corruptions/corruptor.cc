#include "robustness/corruptions/corruptor.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "robustness/base/seed.h"
#include "robustness/corruptions/corruption_names.h"
#include "robustness/corruptions/internal/filters.h"
#include "robustness/corruptions/internal/ops.h"
#include "robustness/corruptions/severity_table.h"

namespace robustness {

using corruptions_internal::OpContext;
using corruptions_internal::Random;

absl::StatusOr<Corruptor> Corruptor::Create(const proto::CorruptionConfig& config) {
  const proto::SeverityTable table = config.severity_table();
  if (table == proto::SEVERITY_TABLE_UNSPECIFIED || !proto::SeverityTable_IsValid(table)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "corruption.severity_table must be IMAGENET_C, IMAGECORRUPTIONS, CIFAR10_C or "
        "TINY_IMAGENET_C, got ", static_cast<int>(table)));
  }
  corruptions_internal::UseSerialOpenCv();
  Corruptor corruptor;
  corruptor.table_ = table;
  if (config.has_frost()) {
    absl::StatusOr<std::shared_ptr<const FrostAssets>> frost =
        FrostAssets::Load(config.frost(), table);
    if (!frost.ok()) return frost.status();
    corruptor.frost_ = *frost;
  }
  return corruptor;
}

uint64_t Corruptor::ImageSeed(uint64_t seed, proto::Corruption corruption, int severity,
                              int64_t index) {
  return DeriveSeed(seed, {kCorruptionStream, static_cast<uint64_t>(corruption),
                           static_cast<uint64_t>(severity), static_cast<uint64_t>(index)});
}

absl::StatusOr<Uint8Image> Corruptor::Apply(const Uint8Image& image, proto::Corruption corruption,
                                            int severity, uint64_t seed) const {
  absl::StatusOr<std::vector<double>> params = SeverityParameters(table_, corruption, severity);
  if (!params.ok()) return params.status();
  if (image.channels != 1 && image.channels != 3) {
    return absl::InvalidArgumentError(
        absl::StrCat("corruptions take 1- or 3-channel images, got ", image.channels));
  }
  if (image.height < kMinCorruptionSide || image.width < kMinCorruptionSide) {
    return absl::InvalidArgumentError(absl::StrCat(
        CorruptionName(corruption), " needs images of at least ", kMinCorruptionSide, " x ",
        kMinCorruptionSide, " px, got ", image.height, " x ", image.width));
  }
  namespace ops = corruptions_internal;
  const std::vector<double>& p = *params;
  Random random(seed);
  OpContext context;
  context.table = table_;
  if (frost_ != nullptr) {
    context.frost_count = frost_->count();
    const FrostAssets* frost = frost_.get();
    context.frost_image = [frost](int index, int64_t h, int64_t w) {
      return frost->Resized(index, h, w);
    };
  }
  switch (corruption) {
    case proto::GAUSSIAN_NOISE: return ops::GaussianNoise(image, p, &random);
    case proto::SHOT_NOISE: return ops::ShotNoise(image, p, &random);
    case proto::IMPULSE_NOISE: return ops::ImpulseNoise(image, p, &random);
    case proto::DEFOCUS_BLUR: return ops::DefocusBlur(image, p);
    case proto::GLASS_BLUR: return ops::GlassBlur(image, p, &random);
    case proto::MOTION_BLUR: return ops::MotionBlurOp(image, p, &random);
    case proto::ZOOM_BLUR: return ops::ZoomBlur(image, p);
    case proto::SNOW: return ops::Snow(image, p, &random);
    case proto::FROST: return ops::Frost(image, p, context, &random);
    case proto::FOG: return ops::Fog(image, p, context, &random);
    case proto::BRIGHTNESS: return ops::Brightness(image, p);
    case proto::CONTRAST: return ops::Contrast(image, p);
    case proto::ELASTIC_TRANSFORM: return ops::ElasticTransform(image, p, context, &random);
    case proto::PIXELATE: return ops::Pixelate(image, p, context);
    case proto::JPEG_COMPRESSION: return ops::JpegCompression(image, p);
    case proto::SPECKLE_NOISE: return ops::SpeckleNoise(image, p, &random);
    case proto::GAUSSIAN_BLUR: return ops::GaussianBlur(image, p);
    case proto::SPATTER: return ops::Spatter(image, p, &random);
    case proto::SATURATE: return ops::Saturate(image, p);
    default: break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown corruption ", static_cast<int>(corruption)));
}

absl::StatusOr<torch::Tensor> Corruptor::ApplyBatch(const torch::Tensor& images,
                                                    proto::Corruption corruption, int severity,
                                                    uint64_t seed, int64_t first_index,
                                                    int threads) const {
  if (images.dim() != 4 || !images.device().is_cpu() ||
      (images.scalar_type() != torch::kUInt8 && images.scalar_type() != torch::kFloat)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ApplyBatch takes a CPU uint8 or float32 [N, C, H, W] tensor, got ", images.dim(),
        "-d ", c10::toString(images.scalar_type()), " on ", images.device().str()));
  }
  const bool is_float = images.scalar_type() == torch::kFloat;
  const torch::Tensor bytes =
      is_float ? images.mul(255.0).round_().clamp_(0, 255).to(torch::kUInt8) : images.contiguous();
  const int64_t n = bytes.size(0);
  torch::Tensor out = torch::empty_like(bytes);
  std::vector<absl::Status> statuses(static_cast<size_t>(n));
  std::atomic<int64_t> next{0};
  auto work = [&] {
    for (int64_t i = next++; i < n; i = next++) {
      const Uint8Image image = Uint8ImageFromBytes(bytes[i]);
      absl::StatusOr<Uint8Image> result =
          Apply(image, corruption, severity, ImageSeed(seed, corruption, severity, first_index + i));
      if (!result.ok()) {
        statuses[i] = result.status();
        continue;
      }
      std::copy(result->data.begin(), result->data.end(), out[i].data_ptr<uint8_t>());
    }
  };
  const int workers = std::max(1, std::min<int>(threads, static_cast<int>(n)));
  std::vector<std::thread> pool;
  for (int t = 1; t < workers; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  for (int64_t i = 0; i < n; ++i) {
    if (!statuses[i].ok()) {
      return absl::Status(statuses[i].code(), absl::StrCat("image ", first_index + i, ": ",
                                                           statuses[i].message()));
    }
  }
  if (is_float) return out.to(torch::kFloat).div_(255.0);
  return out;
}

}  // namespace robustness
