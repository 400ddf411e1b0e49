#include "robustness/augmentation/color_jitter.h"

#include "gtest/gtest.h"
#include "robustness/augmentation/pil_ops.h"
#include "robustness/base/scalar_random.h"

namespace robustness {
namespace {

Uint8Image Gradient(int64_t channels) {
  Uint8Image image(channels, 6, 7);
  for (size_t i = 0; i < image.data.size(); ++i) image.data[i] = static_cast<uint8_t>(i * 37 % 256);
  return image;
}

TEST(ColorJitter, ZeroStrengthIsIdentityAndSameSeedSameImage) {
  const Uint8Image rgb = Gradient(3);
  ScalarRandom r(1);
  EXPECT_EQ(ColorJitter(rgb, {0.0, 0.0, 0.0}, r).data, rgb.data);
  ScalarRandom a(4), b(4);
  EXPECT_EQ(ColorJitter(rgb, {}, a).data, ColorJitter(rgb, {}, b).data);
  EXPECT_NE(ColorJitter(rgb, {}, a).data, rgb.data);
}

TEST(ColorJitter, BrightnessAloneIsPillowsBrightnessAtTheDrawnFactor) {
  const Uint8Image rgb = Gradient(3);
  for (uint64_t seed = 0; seed < 10; ++seed) {
    ScalarRandom r(seed), replay(seed);
    const Uint8Image out = ColorJitter(rgb, {0.4, 0.0, 0.0}, r);
    // Replay the draws: the order (3 swaps), then the three factors, brightness first.
    for (int i = 3; i > 0; --i) replay.UniformInt(0, i);
    const double factor = replay.Uniform(0.6, 1.4);
    EXPECT_EQ(out.data, Enhance(rgb, Enhancement::kBrightness, factor).data) << seed;
  }
}

TEST(ColorJitter, SaturationIsIdentityOnGreyImagesAsInPillow) {
  const Uint8Image grey = Gradient(1);
  ScalarRandom r(2);
  EXPECT_EQ(ColorJitter(grey, {0.0, 0.0, 0.4}, r).data, grey.data);
}

TEST(ColorJitter, FloatPathQuantisesLikeAPilPipeline) {
  const torch::Tensor image = torch::rand({3, 5, 5});
  ScalarRandom r(3);
  const torch::Tensor out = ColorJitter(image, {}, r);
  EXPECT_EQ(out.sizes(), image.sizes());
  EXPECT_TRUE(torch::equal(out, torch::round(out * 255) / 255));
}

}  // namespace
}  // namespace robustness
