#include "robustness/corruptions/internal/jpeg_codec.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace robustness::corruptions_internal {
namespace {

// Smooth content with edges and noise (what photographs give the codec) or pure noise (the
// hardest case for the range limit: large coefficients everywhere).
Uint8Image TestImage(int64_t c, int64_t h, int64_t w, bool noise, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> byte(0, 255), jitter(-12, 12);
  Uint8Image image(c, h, w);
  for (int64_t ch = 0; ch < c; ++ch) {
    uint8_t* p = image.plane(ch);
    for (int64_t y = 0; y < h; ++y) {
      for (int64_t x = 0; x < w; ++x) {
        int v;
        if (noise) {
          v = byte(rng);
        } else {
          v = static_cast<int>(128 + 90 * std::sin(0.21 * x + 0.9 * ch) * std::cos(0.13 * y)) +
              ((x / 5 + y / 7) % 3 == 0 ? 60 : 0) + jitter(rng);
        }
        p[y * w + x] = static_cast<uint8_t>(std::clamp(v, 0, 255));
      }
    }
  }
  return image;
}

// Every kernel the machine has: AVX-512BW with VNNI and without (32 lanes), AVX2 (16 lanes),
// portable int32 (a level the machine lacks runs the next one down again).
void ExpectSameAsLibjpeg(const Uint8Image& image, int quality, const std::string& what) {
  const absl::StatusOr<Uint8Image> expected = LibjpegRoundTrip(image, quality);
  ASSERT_TRUE(expected.ok()) << expected.status();
  for (int level : {3, 2, 1, 0}) {
    SetJpegSimdForTesting(level);
    const Uint8Image got = FastJpegRoundTrip(image, quality);
    SetJpegSimdForTesting(3);
    ASSERT_EQ(got.data.size(), expected->data.size()) << what;
    int64_t differing = 0, first = -1;
    for (size_t i = 0; i < got.data.size(); ++i) {
      if (got.data[i] != expected->data[i]) {
        if (first < 0) first = static_cast<int64_t>(i);
        ++differing;
      }
    }
    EXPECT_EQ(differing, 0) << what << " (SIMD level <= " << level << ")"
                            << ": first at " << first << " ("
                            << (first >= 0 ? int(got.data[first]) : 0) << " vs "
                            << (first >= 0 ? int(expected->data[first]) : 0) << ")";
  }
}

// Black or white per pixel, by pattern: whole blocks (DC -32768 / +32512 after the forward
// DCT, the ends of its 16-bit range), a checkerboard, columns, 2-row stripes shifted per
// channel, irregular hard edges (the largest AC terms).
bool ExtremeOn(int kind, int64_t ch, int64_t y, int64_t x) {
  const int64_t block = (y / 8) * 6 + x / 8;
  if (kind == 0) return block % 2 == 0;
  if (kind == 1) return (x + y) % 2 == 0;
  if (kind == 2) return x % 2 == 0;
  if (kind == 3) return (y / 2 + ch) % 2 == 0;
  return (x * 7 + y * 3 + block) % 5 < 2;
}

TEST(FastJpeg, BitExactWithLibjpegOnExtremeBlocksAtEveryQuality) {
  for (int64_t c : {1, 3}) {
    for (int kind = 0; kind < 5; ++kind) {
      Uint8Image image(c, 48, 48);
      for (int64_t ch = 0; ch < c; ++ch) {
        for (int64_t y = 0; y < 48; ++y) {
          for (int64_t x = 0; x < 48; ++x) {
            image.plane(ch)[y * 48 + x] = ExtremeOn(kind, ch, y, x) ? 255 : 0;
          }
        }
      }
      for (int quality = 1; quality <= 100; ++quality) {
        ExpectSameAsLibjpeg(image, quality,
                            absl::StrCat(c, " channels, pattern ", kind, ", q", quality));
      }
    }
  }
}

TEST(FastJpeg, BitExactWithLibjpegAtEverySmallSize) {
  for (int64_t c : {1, 3}) {
    for (int64_t h = 1; h <= 40; ++h) {
      for (int64_t w = c == 1 ? 1 : kFastJpegMinRgbWidth; w <= 40; w += (h % 3) + 1) {
        const int quality = static_cast<int>(1 + (h * 7 + w * 13) % 100);
        for (bool noise : {false, true}) {
          ExpectSameAsLibjpeg(TestImage(c, h, w, noise, static_cast<uint32_t>(h * 100 + w)),
                              quality,
                              absl::StrCat(c, " x ", h, " x ", w, " q", quality,
                                           noise ? " noise" : " smooth"));
        }
      }
    }
  }
}

// The imagecorruptions qualities (25, 18, 15, 10, 7) and others, at the benchmark's sizes, odd
// sizes around 224, and widths whose planes are 8 blocks wide (64: luma; 128: chroma) or wider
// (520), where the VBMI kernels read block rows as runs of adjacent blocks.
TEST(FastJpeg, BitExactWithLibjpegAtTheCorruptionsQualities) {
  for (int quality : {1, 7, 10, 15, 18, 25, 50, 75, 90, 95, 100}) {
    for (auto [h, w] : {std::pair<int64_t, int64_t>{28, 28}, {32, 32}, {224, 224}, {223, 225},
                        {64, 17}, {40, 64}, {17, 128}, {24, 520}}) {
      for (int64_t c : {1, 3}) {
        for (bool noise : {false, true}) {
          ExpectSameAsLibjpeg(TestImage(c, h, w, noise, static_cast<uint32_t>(quality)), quality,
                              absl::StrCat(c, " x ", h, " x ", w, " q", quality,
                                           noise ? " noise" : " smooth"));
        }
      }
    }
  }
}

TEST(FastJpeg, NarrowRgbImagesGoToLibjpegWithTheSamePixels) {
  for (int64_t w = 1; w < kFastJpegMinRgbWidth; ++w) {
    const Uint8Image narrow = TestImage(3, 9, w, false, 5);
    EXPECT_FALSE(FastJpegApplies(narrow, 15));
    const absl::StatusOr<Uint8Image> a = JpegRoundTrip(narrow, 15);
    const absl::StatusOr<Uint8Image> b = LibjpegRoundTrip(narrow, 15);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->data, b->data);
  }
  EXPECT_TRUE(FastJpegApplies(TestImage(3, 1, kFastJpegMinRgbWidth, false, 5), 15));
  EXPECT_TRUE(FastJpegApplies(TestImage(1, 1, 1, false, 5), 15));
}

// A flat image quantises its DC only (the level moves by the DC's quantisation error) and stays
// flat in every plane.
TEST(FastJpeg, FlatImagesStayFlat) {
  for (int value : {0, 17, 128, 255}) {
    const Uint8Image flat(3, 24, 40, static_cast<uint8_t>(value));
    const Uint8Image out = FastJpegRoundTrip(flat, 7);
    for (int64_t c = 0; c < 3; ++c) {
      const uint8_t* p = out.plane(c);
      for (int64_t i = 0; i < out.plane_size(); ++i) ASSERT_EQ(p[i], p[0]) << value << " " << c;
    }
    EXPECT_LE(std::abs(int(out.plane(0)[0]) - value), 8) << value;
  }
}

}  // namespace
}  // namespace robustness::corruptions_internal
