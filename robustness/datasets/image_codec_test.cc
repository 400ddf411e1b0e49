#include "robustness/datasets/image_codec.h"

#include <fstream>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "glog/logging.h"
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

// DecodeImageFile's pixels x 255 inside `box`, as uint8.
at::Tensor CroppedBytes(const std::string& path, const PixelBox& box) {
  absl::StatusOr<at::Tensor> whole = DecodeImageFile(path);
  CHECK(whole.ok()) << whole.status();
  return whole->narrow(1, box.top, box.height)
      .narrow(2, box.left, box.width)
      .mul(255.0)
      .round_()
      .to(at::kByte);
}

// Random boxes (and the edge cases: whole image, single pixels in the corners, full-width and
// full-height strips) decoded as regions equal the full decode cropped, bit for bit.
void ExpectRegionsEqualCroppedWholeDecode(const std::string& path, int random_boxes) {
  absl::StatusOr<at::Tensor> whole = DecodeImageFile(path);
  ASSERT_THAT(whole, IsOk());
  const int64_t h = whole->size(1), w = whole->size(2);
  std::vector<PixelBox> boxes = {{0, 0, h, w},         {0, 0, 1, 1},     {h - 1, w - 1, 1, 1},
                                 {0, w - 1, h, 1},     {h - 1, 0, 1, w}, {h / 3, 0, h / 2, w},
                                 {0, w / 3, h, w / 2}, {1, 1, h - 2, w - 2}};
  at::manual_seed(7);
  for (int i = 0; i < random_boxes; ++i) {
    const int64_t bh = at::randint(1, h + 1, {1}).item<int64_t>();
    const int64_t bw = at::randint(1, w + 1, {1}).item<int64_t>();
    boxes.push_back({at::randint(0, h - bh + 1, {1}).item<int64_t>(),
                     at::randint(0, w - bw + 1, {1}).item<int64_t>(), bh, bw});
  }
  for (const PixelBox& box : boxes) {
    int64_t seen_h = 0, seen_w = 0;
    absl::StatusOr<at::Tensor> region = DecodeImageFileRegion(path, [&](int64_t hh, int64_t ww) {
      seen_h = hh;
      seen_w = ww;
      return box;
    });
    ASSERT_THAT(region, IsOk());
    EXPECT_EQ(seen_h, h);
    EXPECT_EQ(seen_w, w);
    ASSERT_EQ(region->scalar_type(), at::kByte);
    ASSERT_EQ(region->sizes(), at::IntArrayRef({3, box.height, box.width}));
    EXPECT_TRUE(at::equal(*region, CroppedBytes(path, box)))
        << path << " box " << box.top << "," << box.left << "," << box.height << "," << box.width;
  }
}

TEST(DecodeImageFileRegion, JpegPhotographRegionsAreTheFullDecodeCropped) {
  // A real camera JPEG Debian ships (python-matplotlib-data, installed by tools/setup.sh).
  ExpectRegionsEqualCroppedWholeDecode(
      "/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg", 200);
}

TEST(DecodeImageFileRegion, SmallRgbGreyAndPngFilesToo) {
  at::manual_seed(3);
  const at::Tensor rgb = (at::rand({3, 37, 53}) * 0.4 +
                          at::linspace(0, 0.6, 53).view({1, 1, 53}))
                             .clamp(0, 1);
  ASSERT_THAT(WriteJpeg(TempPath("odd.jpg"), rgb, 90), IsOk());
  ASSERT_THAT(WriteJpeg(TempPath("grey.jpg"), rgb.narrow(0, 0, 1), 90), IsOk());
  ASSERT_THAT(WritePng(TempPath("odd.png"), rgb), IsOk());
  ExpectRegionsEqualCroppedWholeDecode(TempPath("odd.jpg"), 100);
  ExpectRegionsEqualCroppedWholeDecode(TempPath("grey.jpg"), 50);
  ExpectRegionsEqualCroppedWholeDecode(TempPath("odd.png"), 20);
}

TEST(DecodeImageFileRegion, TruncatedJpegIsDataLossEvenForABoxAboveTheDamage) {
  at::manual_seed(4);
  ASSERT_THAT(WriteJpeg(TempPath("tall.jpg"), at::rand({3, 64, 16}), 90), IsOk());
  std::ifstream in(TempPath("tall.jpg"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(TempPath("tall_cut.jpg"), std::ios::binary)
      << bytes.substr(0, bytes.size() * 3 / 4);
  EXPECT_THAT(DecodeImageFileRegion(TempPath("tall_cut.jpg"),
                                    [](int64_t, int64_t w) { return PixelBox{0, 0, 4, w}; }),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("tall_cut.jpg")));
  EXPECT_THAT(DecodeImageFileRegion(TempPath("missing.jpg"),
                                    [](int64_t h, int64_t w) { return PixelBox{0, 0, h, w}; }),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("missing.jpg")));
}

}  // namespace
}  // namespace robustness
