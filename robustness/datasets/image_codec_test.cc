#include "robustness/datasets/image_codec.h"

#include <fstream>
#include <string>

#include <ATen/ATen.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/status_matchers.h"

namespace robustness {
namespace {

using ::testing::HasSubstr;

std::string TempPath(const std::string& name) { return ::testing::TempDir() + "/" + name; }

// Random pixels that are exact multiples of 1/255.
at::Tensor RandomImage(int64_t channels, int64_t seed) {
  at::manual_seed(seed);
  return at::randint(0, 256, {channels, 5, 7}, at::kFloat).div_(255.0);
}

TEST(DecodeImageFile, PngRoundTripIsExact) {
  at::Tensor image = RandomImage(3, 1);
  ASSERT_THAT(WritePng(TempPath("rgb.png"), image), IsOk());
  absl::StatusOr<at::Tensor> decoded = DecodeImageFile(TempPath("rgb.png"));
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(decoded->scalar_type(), at::kFloat);
  EXPECT_TRUE(at::allclose(*decoded, image, /*rtol=*/0, /*atol=*/1e-6));
}

TEST(DecodeImageFile, GrayPngBecomesThreeEqualChannels) {
  at::Tensor image = RandomImage(1, 2);
  ASSERT_THAT(WritePng(TempPath("gray.png"), image), IsOk());
  absl::StatusOr<at::Tensor> decoded = DecodeImageFile(TempPath("gray.png"));
  ASSERT_THAT(decoded, IsOk());
  ASSERT_EQ(decoded->sizes(), at::IntArrayRef({3, 5, 7}));
  EXPECT_TRUE(at::allclose(*decoded, image.expand({3, 5, 7}), 0, 1e-6));
}

TEST(DecodeImageFile, JpegRoundTripIsClose) {
  at::Tensor image = at::linspace(0, 1, 16 * 16).reshape({1, 16, 16}).repeat({3, 1, 1});
  image[1].mul_(0.5);
  ASSERT_THAT(WriteJpeg(TempPath("smooth.jpg"), image, 95), IsOk());
  absl::StatusOr<at::Tensor> decoded = DecodeImageFile(TempPath("smooth.jpg"));
  ASSERT_THAT(decoded, IsOk());
  ASSERT_EQ(decoded->sizes(), at::IntArrayRef({3, 16, 16}));
  EXPECT_LT((*decoded - image).abs().max().item<float>(), 0.05f);
}

TEST(DecodeImageFile, TruncatedJpegIsDataLoss) {
  ASSERT_THAT(WriteJpeg(TempPath("full.jpg"), RandomImage(3, 3), 90), IsOk());
  std::ifstream in(TempPath("full.jpg"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(TempPath("cut.jpg"), std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  EXPECT_THAT(DecodeImageFile(TempPath("cut.jpg")),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("cut.jpg")));
}

TEST(DecodeImageFile, CorruptPngIsDataLoss) {
  ASSERT_THAT(WritePng(TempPath("full.png"), RandomImage(3, 4)), IsOk());
  std::ifstream in(TempPath("full.png"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(TempPath("cut.png"), std::ios::binary) << bytes.substr(0, bytes.size() - 20);
  EXPECT_THAT(DecodeImageFile(TempPath("cut.png")),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("cut.png")));
}

TEST(DecodeImageFile, OtherBytesAreDataLossAndMissingIsNotFound) {
  std::ofstream(TempPath("text.jpg")) << "not an image";
  EXPECT_THAT(DecodeImageFile(TempPath("text.jpg")),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("neither a PNG nor a JPEG")));
  EXPECT_THAT(DecodeImageFile(TempPath("nope.png")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("nope.png")));
}

}  // namespace
}  // namespace robustness
