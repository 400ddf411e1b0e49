// Pillow's resize against Pillow itself (testdata/make_pil_fixtures.py, run by Debian's python3-pil
// at build time): crops of the photograph Debian ships, of a Fashion-MNIST image and of a small RGB
// image, downscaled 1-3x, upscaled and reshaped, both filters. And torchvision's RandomResizedCrop
// path end to end: our JPEG region decode + resize equals PIL's decode + crop + resize.
#include "robustness/augmentation/pil_resize.h"

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "robustness/augmentation/pil_fixtures.h"
#include "robustness/augmentation/random_resized_crop.h"
#include "robustness/augmentation/uint8_image.h"
#include "robustness/datasets/image_codec.h"

namespace robustness {
namespace {

constexpr char kPhoto[] = "/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg";

std::vector<int64_t> Ints(const std::string& csv) {
  std::vector<int64_t> v;
  for (absl::string_view part : absl::StrSplit(csv, ',')) {
    int64_t x;
    CHECK(absl::SimpleAtoi(part, &x)) << csv;
    v.push_back(x);
  }
  return v;
}

Uint8Image Crop(const Uint8Image& image, const PixelBox& box) {
  Uint8Image out(image.channels, box.height, box.width);
  for (int64_t c = 0; c < image.channels; ++c) {
    for (int64_t y = 0; y < box.height; ++y) {
      for (int64_t x = 0; x < box.width; ++x) {
        out.plane(c)[y * box.width + x] =
            image.plane(c)[(box.top + y) * image.width + box.left + x];
      }
    }
  }
  return out;
}

struct Case {
  std::string image;
  PixelBox box;
  int64_t height, width;
  Resample resample;
  const Uint8Image* expected;
};

std::vector<Case> ResizeCases() {
  std::vector<Case> cases;
  for (const auto& [kv, expected] : LoadPilFixtures().cases) {
    if (!kv.count("kind") || kv.at("kind") != "resized_crop") continue;
    const std::vector<int64_t> box = Ints(kv.at("box")), size = Ints(kv.at("size"));
    cases.push_back({kv.at("image"), {box[0], box[1], box[2], box[3]}, size[0], size[1],
                     kv.at("resample") == "bicubic" ? Resample::kBicubic : Resample::kBilinear,
                     &expected});
  }
  return cases;
}

std::string Describe(const Case& c) {
  return c.image + " box " + std::to_string(c.box.top) + "," + std::to_string(c.box.left) + "," +
         std::to_string(c.box.height) + "," + std::to_string(c.box.width) + " -> " +
         std::to_string(c.height) + "x" + std::to_string(c.width) +
         (c.resample == Resample::kBicubic ? " bicubic" : " bilinear");
}

TEST(PilResize, BitExactWithPillowOnEveryFixture) {
  const std::vector<Case> cases = ResizeCases();
  ASSERT_GE(cases.size(), 20u);
  for (const Case& c : cases) {
    const Uint8Image& input = LoadPilFixtures().inputs.at(c.image);
    const Uint8Image ours = PilResize(Crop(input, c.box), c.height, c.width, c.resample);
    EXPECT_EQ(MaxAbsDiff(ours, *c.expected), 0) << Describe(c);
  }
}

// The SSE2 pass (the one CPUs without AVX2 run) on the same fixtures, on any machine.
TEST(PilResize, Sse2PassIsBitExactToo) {
  SetPilResizeAvx2AllowedForTesting(false);
  for (const Case& c : ResizeCases()) {
    const Uint8Image& input = LoadPilFixtures().inputs.at(c.image);
    const Uint8Image ours = PilResize(Crop(input, c.box), c.height, c.width, c.resample);
    EXPECT_EQ(MaxAbsDiff(ours, *c.expected), 0) << Describe(c);
  }
  SetPilResizeAvx2AllowedForTesting(true);
}

// The AVX2 passes (16 x 32 transposes, 16-pixel rows) against the SSE2 ones on random images
// whose sides leave every ragged strip: below and beside the AVX2 blocks, narrower than 8.
TEST(PilResize, Avx2AndSse2PassesAgreeOnRaggedSizes) {
  std::mt19937 rng(7);
  int compared = 0;
  for (const int64_t h : {1, 7, 16, 17, 33, 50}) {
    for (const int64_t w : {3, 31, 32, 47, 65}) {
      Uint8Image image(3, h, w);
      for (uint8_t& v : image.data) v = static_cast<uint8_t>(rng());
      for (const auto& [oh, ow] : {std::pair<int64_t, int64_t>{h * 2 + 1, w / 2 + 1},
                                   {h / 3 + 1, w * 3}, {40, 40}}) {
        for (const Resample resample : {Resample::kBox, Resample::kBilinear, Resample::kBicubic}) {
          SetPilResizeAvx2AllowedForTesting(false);
          const Uint8Image sse2 = PilResize(image, oh, ow, resample);
          SetPilResizeAvx2AllowedForTesting(true);
          const Uint8Image avx2 = PilResize(image, oh, ow, resample);
          ASSERT_EQ(avx2.data, sse2.data) << h << "x" << w << " -> " << oh << "x" << ow;
          ++compared;
        }
      }
    }
  }
  EXPECT_EQ(compared, 6 * 5 * 3 * 3);
}

TEST(PilResize, SameSizeIsACopy) {
  const Uint8Image& grey = LoadPilFixtures().inputs.at("grey");
  const Uint8Image out = PilResize(grey, grey.height, grey.width, Resample::kBicubic);
  EXPECT_EQ(out.data, grey.data);
}

// torchvision's RandomResizedCrop on PIL, end to end: PIL decodes the photograph (libjpeg-turbo,
// as we do), crops and resizes. Our region decode gives the crop's pixels directly.
TEST(PilResize, RegionDecodePlusResizeEqualsTorchvisionOnPil) {
  const Uint8Image& pil_photo = LoadPilFixtures().inputs.at("photo");
  absl::StatusOr<torch::Tensor> whole = DecodeImageFileRegion(
      kPhoto, [](int64_t h, int64_t w) { return PixelBox{0, 0, h, w}; });
  ASSERT_TRUE(whole.ok()) << whole.status();
  EXPECT_EQ(MaxAbsDiff(Uint8ImageFromBytes(*whole), pil_photo), 0) << "decoder differs from PIL's";
  int checked = 0;
  for (const Case& c : ResizeCases()) {
    if (c.image != "photo" || c.resample != Resample::kBicubic || c.height != c.width) continue;
    absl::StatusOr<torch::Tensor> region =
        DecodeImageFileRegion(kPhoto, [&](int64_t, int64_t) { return c.box; });
    ASSERT_TRUE(region.ok()) << region.status();
    const RandomResizedCropOptions options = {c.height, 0.08, 1.0, 3.0 / 4, 4.0 / 3};
    EXPECT_EQ(MaxAbsDiff(ResizeCrop(Uint8ImageFromBytes(*region), options), *c.expected), 0)
        << Describe(c);
    ++checked;
  }
  EXPECT_GE(checked, 4);
}

}  // namespace
}  // namespace robustness
