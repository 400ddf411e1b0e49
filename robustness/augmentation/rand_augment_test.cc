// RandAugment against Pillow itself: testdata/make_pil_fixtures.py (run by Debian's python3-pil at
// build time) records Pillow's output of every timm 0.3.2 op at levels 0, 2.4, 5, 7.3, 9 and 10,
// both signs, both filters, on a Fashion-MNIST image, a grey rectangle and an RGB photograph.
#include "robustness/augmentation/rand_augment.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/augmentation/pil_fixtures.h"
#include "robustness/augmentation/pil_ops.h"
#include "robustness/base/scalar_random.h"
#include "robustness/base/status_matchers.h"

namespace robustness {
namespace {

using ::testing::HasSubstr;

std::vector<uint8_t> FillFor(const Uint8Image& image) {
  return image.channels == 3 ? std::vector<uint8_t>{124, 116, 104} : std::vector<uint8_t>{128};
}

Resample ResampleOf(const std::string& name) {
  return name == "bicubic" ? Resample::kBicubic : Resample::kBilinear;
}

TEST(RandAugmentOps, EveryOpMatchesPillowWithinOneGreyLevel) {
  const PilFixtures& f = LoadPilFixtures();
  int checked = 0, exact = 0;
  for (const auto& [kv, expected] : f.cases) {
    if (!kv.count("op")) continue;
    const Uint8Image& input = f.inputs.at(kv.at("image"));
    double level;
    ASSERT_TRUE(absl::SimpleAtod(kv.at("level"), &level));
    absl::StatusOr<RandAugmentOp> op = RandAugmentOpFromName(kv.at("op"));
    ASSERT_THAT(op.status(), IsOk());
    const Uint8Image ours = ApplyRandAugmentOp(input, *op, level, kv.at("sign") == "-1",
                                               ResampleOf(kv.at("resample")), FillFor(input));
    const int diff = MaxAbsDiff(ours, expected);
    EXPECT_LE(diff, 1) << kv.at("op") << " level " << level << " sign " << kv.at("sign") << " "
                       << kv.at("resample") << " on " << kv.at("image");
    ++checked;
    exact += diff == 0;
  }
  EXPECT_GT(checked, 600);
  std::printf("%d op cases, %d bit-exact\n", checked, exact);
  // The tolerance is the (one grey level); today every case is bit-exact.
  EXPECT_GT(exact, checked * 9 / 10) << exact << " of " << checked << " bit-exact";
}

TEST(RandAugmentOps, EdgeCasesMatchPillow) {
  const PilFixtures& f = LoadPilFixtures();
  int checked = 0;
  for (const auto& [kv, expected] : f.cases) {
    if (!kv.count("kind") || kv.at("kind") == "resized_crop") continue;  // pil_resize_test's
    const Uint8Image& input = f.inputs.at(kv.at("image"));
    double arg;
    ASSERT_TRUE(absl::SimpleAtod(kv.at("arg"), &arg));
    Uint8Image ours;
    if (kv.at("kind") == "rotate") {
      ours = Rotate(input, arg, ResampleOf(kv.at("resample")), FillFor(input));
    } else if (kv.at("kind") == "posterize") {
      ours = Posterize(input, static_cast<int>(arg));
    } else {
      ours = Enhance(input, Enhancement::kSharpness, arg);
    }
    EXPECT_LE(MaxAbsDiff(ours, expected), 1)
        << kv.at("kind") << " " << arg << " " << kv.at("resample") << " on " << kv.at("image");
    ++checked;
  }
  EXPECT_GT(checked, 40);
}

TEST(RandAugmentOps, IdentityWhereTimmsOpIsIdentity) {
  const Uint8Image& rgb = LoadPilFixtures().inputs.at("rgb");
  const std::vector<uint8_t> fill = FillFor(rgb);
  for (RandAugmentOp op : {RandAugmentOp::kRotate, RandAugmentOp::kShearX, RandAugmentOp::kShearY,
                           RandAugmentOp::kTranslateXRel, RandAugmentOp::kTranslateYRel,
                           RandAugmentOp::kSolarizeIncreasing, RandAugmentOp::kSolarizeAdd,
                           RandAugmentOp::kColorIncreasing, RandAugmentOp::kContrastIncreasing,
                           RandAugmentOp::kBrightnessIncreasing,
                           RandAugmentOp::kSharpnessIncreasing}) {
    EXPECT_EQ(ApplyRandAugmentOp(rgb, op, 0.0, false, Resample::kBicubic, fill).data, rgb.data)
        << RandAugmentOpName(op);
  }
  // Solarize at level 10 has threshold 256: nothing is inverted.
  EXPECT_EQ(ApplyRandAugmentOp(rgb, RandAugmentOp::kSolarize, 10.0, false, Resample::kBicubic, fill)
                .data,
            rgb.data);
  // Posterize keeps 4 bits at level 10; the increasing variant keeps none there (a black image).
  const Uint8Image black =
      ApplyRandAugmentOp(rgb, RandAugmentOp::kPosterizeIncreasing, 10.0, false,
                         Resample::kBicubic, fill);
  EXPECT_EQ(*std::max_element(black.data.begin(), black.data.end()), 0);
}

TEST(RandAugmentSpec, ParsesTimmStrings) {
  absl::StatusOr<RandAugmentParams> deit = ParseRandAugmentSpec("rand-m9-mstd0.5-inc1");
  ASSERT_THAT(deit.status(), IsOk());
  EXPECT_EQ(deit->num_ops, 2);
  EXPECT_EQ(deit->magnitude, 9);
  EXPECT_EQ(deit->magnitude_std, 0.5);
  EXPECT_TRUE(deit->increasing);
  EXPECT_FALSE(deit->weighted);
  absl::StatusOr<RandAugmentParams> other = ParseRandAugmentSpec("rand-n3-m5-mstd1-mstd2-w0-inc0");
  ASSERT_THAT(other.status(), IsOk());
  EXPECT_EQ(other->num_ops, 3);
  EXPECT_EQ(other->magnitude_std, 1.0);  // the first mstd wins (timm's setdefault)
  EXPECT_TRUE(other->increasing);        // inc0 enables it in timm 0.3.2
  EXPECT_TRUE(other->weighted);
  absl::StatusOr<RandAugmentParams> defaults = ParseRandAugmentSpec("rand");
  ASSERT_THAT(defaults.status(), IsOk());
  EXPECT_EQ(defaults->magnitude, 10);
  absl::StatusOr<RandAugmentParams> back = ParseRandAugmentSpec(FormatRandAugmentSpec(*deit));
  ASSERT_THAT(back.status(), IsOk());
  EXPECT_EQ(FormatRandAugmentSpec(*back), "rand-n2-m9-mstd0.5-inc1");
}

TEST(RandAugmentSpec, RejectsWhatTimmRejectsAndTokensItWouldIgnore) {
  const std::pair<const char*, const char*> bad[] = {
      {"augmix-m9", "must start with \"rand\""},
      {"rand-m9-mmax10", "unknown key \"mmax\""},
      {"rand-m9-p5", "unknown key \"p\""},
      {"rand-x3", "unknown key \"x\""},
      {"rand-m9.5", "\"m9.5\" needs an integer"},
      {"rand-mstd-1", "\"mstd\" has no value"},
      {"rand-inc", "\"inc\" has no value"},
      {"rand-n0", "needs n >= 1"},
      {"rand-w1", "other than 0"},
  };
  for (const auto& [spec, message] : bad) {
    EXPECT_THAT(ParseRandAugmentSpec(spec).status(),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(message)))
        << spec;
  }
}

TEST(RandAugment, SameSeedSameImageAndOpsFireAboutHalfTheTime) {
  const Uint8Image& rgb = LoadPilFixtures().inputs.at("rgb");
  RandAugmentOptions options;
  options.params = *ParseRandAugmentSpec("rand-m9-mstd0.5-inc1");
  options.fill = FillFor(rgb);
  int unchanged = 0;
  for (uint64_t seed = 0; seed < 400; ++seed) {
    ScalarRandom a(seed), b(seed);
    const Uint8Image x = RandAugment(rgb, options, a);
    EXPECT_EQ(x.data, RandAugment(rgb, options, b).data);
    unchanged += x.data == rgb.data;
  }
  // P(no op fires) = 1/4, plus the rare ops that leave this image as it is.
  EXPECT_GT(unchanged, 60);
  EXPECT_LT(unchanged, 150);
}

TEST(RandAugment, FloatPathReturnsTheInputWhenNothingFiresAndQuantisesOtherwise) {
  const torch::Tensor image = torch::rand({3, 16, 16});
  RandAugmentOptions options;
  options.params = *ParseRandAugmentSpec("rand-m9-mstd0.5-inc1");
  options.fill = {124, 116, 104};
  int same = 0;
  for (uint64_t seed = 0; seed < 64; ++seed) {
    ScalarRandom random(seed);
    const torch::Tensor out = RandAugment(image, options, random);
    ASSERT_EQ(out.sizes(), image.sizes());
    if (out.is_same(image)) {
      ++same;
    } else {
      EXPECT_TRUE(torch::equal(out, torch::round(out * 255) / 255));
    }
  }
  EXPECT_GT(same, 5);
  EXPECT_LT(same, 40);
}

TEST(RandAugment, WeightedChoiceFollowsTimmsWeightsWithoutReplacement) {
  RandAugmentParams params = *ParseRandAugmentSpec("rand-n2-m5-w0");
  std::map<RandAugmentOp, int> count;
  ScalarRandom random(5);
  const int draws = 20000;
  for (int i = 0; i < draws; ++i) {
    const std::vector<RandAugmentOp> ops = ChooseRandAugmentOps(params, random);
    ASSERT_EQ(ops.size(), 2u);
    EXPECT_NE(ops[0], ops[1]);
    ++count[ops[0]];
  }
  EXPECT_EQ(count[RandAugmentOp::kInvert], 0);
  EXPECT_EQ(count[RandAugmentOp::kPosterize], 0);
  EXPECT_NEAR(count[RandAugmentOp::kRotate] / double(draws), 0.3, 0.015);
  EXPECT_NEAR(count[RandAugmentOp::kShearX] / double(draws), 0.2, 0.015);
  // Unweighted: uniform over the 15 ops, with replacement.
  params.weighted = false;
  params.num_ops = 15;
  int repeats = 0;
  for (int i = 0; i < 200; ++i) {
    std::vector<RandAugmentOp> ops = ChooseRandAugmentOps(params, random);
    std::sort(ops.begin(), ops.end());
    repeats += std::adjacent_find(ops.begin(), ops.end()) != ops.end();
  }
  EXPECT_GT(repeats, 190);
}

}  // namespace
}  // namespace robustness
