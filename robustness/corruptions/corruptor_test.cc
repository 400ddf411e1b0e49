#include "robustness/corruptions/corruptor.h"

#include <cmath>
#include <filesystem>

#include "gtest/gtest.h"
#include "robustness/base/status_matchers.h"
#include "robustness/corruptions/corruption_names.h"
#include "robustness/corruptions/internal/ops.h"

namespace robustness {
namespace {

using ::testing::HasSubstr;

// A smooth image with edges: a bright disc on a gradient, plus mild texture.
Uint8Image TestImage(int64_t c, int64_t h, int64_t w) {
  Uint8Image image(c, h, w);
  for (int64_t ch = 0; ch < c; ++ch) {
    for (int64_t y = 0; y < h; ++y) {
      for (int64_t x = 0; x < w; ++x) {
        const double dy = y - h / 2.0, dx = x - w / 2.0;
        double v = 40 + 120.0 * x / w + 30 * ch + ((x * 7 + y * 13) % 11);
        if (dx * dx + dy * dy < h * w / 10.0) v = 220 - 20 * ch;
        image.plane(ch)[y * w + x] = static_cast<uint8_t>(std::clamp(v, 0.0, 255.0));
      }
    }
  }
  return image;
}

Corruptor MakeCorruptor(proto::SeverityTable table) {
  proto::CorruptionConfig config;
  config.set_severity_table(table);
  auto corruptor = Corruptor::Create(config);
  CHECK(corruptor.ok()) << corruptor.status();
  return std::move(*corruptor);
}

bool IsRandom(proto::Corruption c) {
  switch (c) {
    case proto::DEFOCUS_BLUR: case proto::ZOOM_BLUR: case proto::BRIGHTNESS:
    case proto::CONTRAST: case proto::PIXELATE: case proto::JPEG_COMPRESSION:
    case proto::SATURATE: case proto::GAUSSIAN_BLUR:
      return false;
    default:
      return true;
  }
}

TEST(Corruptor, EveryCorruptionKeepsShapeAtEverySizeAndIsSeeded) {
  for (auto table : {proto::CIFAR10_C, proto::IMAGECORRUPTIONS}) {
    const Corruptor corruptor = MakeCorruptor(table);
    for (auto [c, h, w] : {std::tuple<int64_t, int64_t, int64_t>{1, 28, 28}, {3, 33, 41},
                           {1, 8, 8}, {3, 8, 12}}) {
      const Uint8Image image = TestImage(c, h, w);
      for (proto::Corruption corruption : AllCorruptions()) {
        if (corruption == proto::FROST) continue;  // needs assets; FrostNeedsAssets below
        for (int s = 1; s <= 5; ++s) {
          auto a = corruptor.Apply(image, corruption, s, 7);
          ASSERT_THAT(a.status(), IsOk()) << CorruptionName(corruption) << " " << s;
          EXPECT_EQ(a->channels, c);
          EXPECT_EQ(a->height, h);
          EXPECT_EQ(a->width, w);
          auto b = corruptor.Apply(image, corruption, s, 7);
          EXPECT_EQ(a->data, b->data) << "same seed, same bits: " << CorruptionName(corruption);
        }
      }
    }
  }
}

TEST(Corruptor, RandomCorruptionsDependOnTheSeedDeterministicOnesDoNot) {
  const Corruptor corruptor = MakeCorruptor(proto::CIFAR10_C);
  const Uint8Image image = TestImage(3, 32, 32);
  for (proto::Corruption corruption : AllCorruptions()) {
    if (corruption == proto::FROST) continue;
    auto a = corruptor.Apply(image, corruption, 5, 1);
    auto b = corruptor.Apply(image, corruption, 5, 2);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->data != b->data, IsRandom(corruption)) << CorruptionName(corruption);
  }
}

TEST(Corruptor, IdentitySettingsAreIdentity) {
  namespace ops = corruptions_internal;
  for (int64_t c : {1, 3}) {
    const Uint8Image image = TestImage(c, 30, 30);
    EXPECT_EQ(ops::Brightness(image, {0.0}).data, image.data);
    EXPECT_EQ(ops::Contrast(image, {1.0}).data, image.data);
    EXPECT_EQ(ops::Saturate(image, {1.0, 0.0}).data, image.data);
  }
}

TEST(Corruptor, JpegAtQuality100IsNearIdentity) {
  namespace ops = corruptions_internal;
  for (int64_t c : {1, 3}) {
    const Uint8Image image = TestImage(c, 40, 40);
    auto out = ops::JpegCompression(image, {100});
    ASSERT_THAT(out.status(), IsOk());
    double total = 0;
    for (size_t i = 0; i < image.data.size(); ++i) {
      total += std::abs(static_cast<int>(out->data[i]) - static_cast<int>(image.data[i]));
    }
    // Grey: only the DCT quantisation at q100. RGB: Pillow's default 4:2:0 also halves the
    // chroma resolution, which costs ~2 levels at this image's sharp colour edges.
    EXPECT_LT(total / image.data.size(), c == 1 ? 0.6 : 2.5) << c;
  }
}

TEST(Corruptor, BatchIsIndependentOfThreadsAndMatchesSingleImages) {
  const Corruptor corruptor = MakeCorruptor(proto::CIFAR10_C);
  torch::Tensor batch = torch::empty({5, 1, 28, 28}, torch::kUInt8);
  for (int i = 0; i < 5; ++i) {
    batch[i].copy_(ToFloatTensor(TestImage(1, 28, 28)).mul(255).round().to(torch::kUInt8));
  }
  // Different content per image: a per-image offset of 0..4 grey levels.
  batch = batch.add(torch::arange(5, torch::kUInt8).view({5, 1, 1, 1}));
  auto one = corruptor.ApplyBatch(batch, proto::GLASS_BLUR, 4, 99, 10, 1);
  auto two = corruptor.ApplyBatch(batch, proto::GLASS_BLUR, 4, 99, 10, 3);
  ASSERT_THAT(one.status(), IsOk());
  ASSERT_THAT(two.status(), IsOk());
  EXPECT_TRUE(one->equal(*two));
  auto single = corruptor.Apply(Uint8ImageFromBytes(batch[3]), proto::GLASS_BLUR, 4,
                                Corruptor::ImageSeed(99, proto::GLASS_BLUR, 4, 13));
  ASSERT_THAT(single.status(), IsOk());
  EXPECT_TRUE(Uint8ImageFromBytes((*one)[3]).data == single->data);
  // float32 in, float32 out, v / 255.
  auto f = corruptor.ApplyBatch(batch.to(torch::kFloat).div(255), proto::GLASS_BLUR, 4, 99, 10, 2);
  ASSERT_THAT(f.status(), IsOk());
  EXPECT_EQ(f->scalar_type(), torch::kFloat);
  EXPECT_TRUE(f->mul(255).round().to(torch::kUInt8).equal(*one));
}

TEST(Corruptor, BadInputIsAClearError) {
  const Corruptor corruptor = MakeCorruptor(proto::CIFAR10_C);
  const Uint8Image image = TestImage(3, 28, 28);
  EXPECT_THAT(corruptor.Apply(image, proto::FOG, 0, 0).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("severity")));
  EXPECT_THAT(corruptor.Apply(image, proto::FOG, 6, 0).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("got 6")));
  EXPECT_THAT(corruptor.Apply(image, proto::CORRUPTION_UNSPECIFIED, 1, 0).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("corruption")));
  EXPECT_THAT(corruptor.Apply(TestImage(3, 7, 28), proto::PIXELATE, 1, 0).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       testing::AllOf(HasSubstr("pixelate"), HasSubstr("7 x 28"))));
  EXPECT_THAT(corruptor.Apply(TestImage(2, 28, 28), proto::FOG, 1, 0).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("got 2")));
  EXPECT_THAT(corruptor.ApplyBatch(torch::zeros({2, 28, 28}), proto::FOG, 1, 0, 0, 1).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("[N, C, H, W]")));
  proto::CorruptionConfig config;
  EXPECT_THAT(Corruptor::Create(config).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("severity_table")));
}

TEST(Corruptor, FrostNeedsAssets) {
  const Corruptor corruptor = MakeCorruptor(proto::CIFAR10_C);
  EXPECT_THAT(corruptor.Apply(TestImage(1, 28, 28), proto::FROST, 1, 0).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("frost.folder")));
}

TEST(Corruptor, FrostWithTheEmbeddedSubstituteBlendsTheTexture) {
  const std::string folder = "/usr/share/gimp/2.0/patterns";
  if (!std::filesystem::exists(folder + "/ice2.pat")) {
    GTEST_SKIP() << "gimp-data-extras not installed (tools/setup.sh installs it)";
  }
  proto::CorruptionConfig config;
  config.set_severity_table(proto::CIFAR10_C);
  config.mutable_frost()->set_folder(folder);
  config.mutable_frost()->add_files("ice2.pat");
  config.mutable_frost()->add_files("icechex.pat");
  config.mutable_frost()->set_scale_override(0.5);
  auto corruptor = Corruptor::Create(config);
  ASSERT_THAT(corruptor.status(), IsOk());
  const Uint8Image black(1, 28, 28, 0);
  auto out = corruptor->Apply(black, proto::FROST, 5, 3);
  ASSERT_THAT(out.status(), IsOk());
  // On black, the result is 0.45 x the texture's luma: never above 0.45 x 255.
  int max_value = 0, nonzero = 0;
  for (uint8_t v : out->data) {
    max_value = std::max<int>(max_value, v);
    nonzero += v > 0;
  }
  EXPECT_LE(max_value, static_cast<int>(0.45 * 255) + 1);
  EXPECT_GT(nonzero, 28 * 28 / 2);
}

}  // namespace
}  // namespace robustness
