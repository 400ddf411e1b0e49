// Spatter's blend kernels (AVX-512, AVX2 + FMA, portable): the same bytes at every level the
// machine has, for the water and the mud blends, grey and RGB, at sizes that leave every tail.
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "robustness/augmentation/uint8_image.h"
#include "robustness/corruptions/internal/ops.h"
#include "robustness/corruptions/internal/random.h"
#include "robustness/corruptions/severity_table.h"

namespace robustness::corruptions_internal {
namespace {

// Every byte value many times over, next to the spatter's smooth layer.
Uint8Image NoiseImage(int64_t c, int64_t h, int64_t w, uint32_t seed) {
  std::mt19937 rng(seed);
  Uint8Image image(c, h, w);
  for (uint8_t& v : image.data) v = static_cast<uint8_t>(rng());
  return image;
}

// The kernels' u / 255: the product by the rounded reciprocal, corrected by two FMAs, is the
// correctly rounded quotient for every byte value (the product alone is not, for 126 of them).
TEST(Spatter, FmaCorrectedReciprocalIsTheQuotientForEveryByte) {
  const float inv = 1.0f / 255.0f;
  int plain_differs = 0;
  for (int u = 0; u < 256; ++u) {
    const float fu = static_cast<float>(u);
    const float quotient = fu / 255.0f;
    const float q0 = fu * inv;
    EXPECT_EQ(std::fma(std::fma(-q0, 255.0f, fu), inv, q0), quotient) << u;
    plain_differs += q0 != quotient;
  }
  EXPECT_GT(plain_differs, 0);  // the correction is needed
}

TEST(Spatter, EveryBlendKernelGivesTheSameBytes) {
  int compared = 0;
  for (const proto::SeverityTable table : {proto::IMAGECORRUPTIONS, proto::CIFAR10_C}) {
    for (int severity = 1; severity <= 5; ++severity) {  // 1-3 water, 4-5 mud
      const absl::StatusOr<std::vector<double>> p =
          SeverityParameters(table, proto::SPATTER, severity);
      ASSERT_TRUE(p.ok()) << p.status();
      for (const auto& [c, h, w] : {std::tuple<int64_t, int64_t, int64_t>{1, 28, 28},
                                    {3, 32, 32}, {3, 37, 53}, {3, 224, 224}}) {
        const Uint8Image image = NoiseImage(c, h, w, static_cast<uint32_t>(severity * 100 + h));
        std::vector<Uint8Image> outs;
        for (const int level : {2, 1, 0}) {
          SetSpatterBlendSimdForTesting(level);
          Random random(42 + severity);
          outs.push_back(Spatter(image, *p, &random));
        }
        SetSpatterBlendSimdForTesting(2);
        const std::string what = absl::StrCat("table ", table, " severity ", severity, " ", c,
                                              " x ", h, " x ", w);
        EXPECT_EQ(outs[0].data, outs[2].data) << what << ": AVX-512 vs portable";
        EXPECT_EQ(outs[1].data, outs[2].data) << what << ": AVX2 vs portable";
        ++compared;
      }
    }
  }
  EXPECT_EQ(compared, 2 * 5 * 4);
}

}  // namespace
}  // namespace robustness::corruptions_internal
