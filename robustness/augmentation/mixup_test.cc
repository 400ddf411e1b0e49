#include "robustness/augmentation/mixup.h"

#include <functional>
#include <utility>
#include <vector>

#include <ATen/ATen.h>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/seed.h"
#include "robustness/base/status_matchers.h"
#include "robustness/config/parse_text_proto.h"

namespace robustness {
namespace {

using ::testing::HasSubstr;

proto::MixupConfig Config(const std::string& text) {
  return ParseTextProtoOrDie<proto::MixupConfig>(text);
}

// Image i is filled with the value i, so every pixel tells which sample it came from.
at::Tensor IndexImages(int64_t n, int64_t h = 16, int64_t w = 12) {
  return at::arange(n, at::kFloat).view({n, 1, 1, 1}).expand({n, 3, h, w}).contiguous();
}

at::Tensor Labels(int64_t n) { return at::arange(n, at::kLong) % 10; }

TEST(MixBatch, TargetsAreDistributionsInEveryMode) {
  for (const char* mode : {"BATCH", "PAIR", "ELEM"}) {
    auto c = Config(absl::StrCat("mixup_alpha: 0.8 cutmix_alpha: 1.0 prob: 1 switch_prob: 0.5 "
                                 "correct_lam: true mode: ", mode));
    for (int seed = 0; seed < 20; ++seed) {
      at::Generator g = MakeCpuGenerator(seed);
      const MixedBatch m = MixBatch(IndexImages(8), Labels(8), 10, 0.1, c, g);
      EXPECT_TRUE(at::allclose(m.targets.sum(1), at::ones({8}))) << mode;
      EXPECT_GE(m.targets.min().item<float>(), 0.1f / 10 - 1e-7) << mode;
    }
  }
}

TEST(MixBatch, CutmixWeightEqualsThePastedAreaAfterClipping) {
  for (const char* mode : {"BATCH", "PAIR", "ELEM"}) {
    auto c = Config(absl::StrCat(
        "mixup_alpha: 0 cutmix_alpha: 1.0 prob: 1 switch_prob: 0 correct_lam: true mode: ", mode));
    for (int seed = 0; seed < 30; ++seed) {
      at::Generator g = MakeCpuGenerator(seed);
      const int64_t n = 6;
      const MixedBatch m = MixBatch(IndexImages(n), Labels(n), 10, 0.0, c, g);
      for (int64_t i = 0; i < n; ++i) {
        // Pixels still showing sample i's own value: its weight lam_i.
        const double own = m.images[i].eq(static_cast<float>(i)).to(at::kDouble).mean().item<double>();
        EXPECT_NEAR(own, m.lam[i].item<double>(), 1e-12) << mode << " seed " << seed << " i " << i;
        const double partner =
            m.images[i].eq(static_cast<float>(n - 1 - i)).to(at::kDouble).mean().item<double>();
        EXPECT_NEAR(own + partner, 1.0, 1e-12);
        EXPECT_NEAR(m.targets[i][i % 10].item<float>(), m.lam[i].item<double>(), 1e-6);
      }
    }
  }
}

TEST(MixBatch, MinmaxBoxesStayInsideAndSetLamFromTheirArea) {
  auto c = Config("mixup_alpha: 0 cutmix_alpha: 1 cutmix_minmax { min: 0.2 max: 0.6 } prob: 1 "
                  "switch_prob: 0 correct_lam: false mode: ELEM");
  for (int seed = 0; seed < 20; ++seed) {
    at::Generator g = MakeCpuGenerator(seed);
    const MixedBatch m = MixBatch(IndexImages(4, 20, 20), Labels(4), 10, 0.0, c, g);
    for (int64_t i = 0; i < 4; ++i) {
      const double pasted = 1.0 - m.lam[i].item<double>();
      EXPECT_GE(pasted, (4.0 * 4.0) / 400 - 1e-12);   // sides >= int(20 * 0.2)
      EXPECT_LT(pasted, (12.0 * 12.0) / 400 + 1e-12);  // sides < int(20 * 0.6)
    }
  }
}

TEST(MixBatch, MixupBlendsWithThePartner) {
  auto c = Config("mixup_alpha: 0.8 cutmix_alpha: 0 prob: 1 switch_prob: 0.5 correct_lam: true "
                  "mode: BATCH");
  at::Generator g = MakeCpuGenerator(3);
  const MixedBatch m = MixBatch(IndexImages(4), Labels(4), 10, 0.0, c, g);
  const double lam = m.lam[0].item<double>();
  EXPECT_GT(lam, 0);
  EXPECT_LT(lam, 1);
  for (int64_t i = 0; i < 4; ++i) {
    EXPECT_NEAR(m.images[i][0][0][0].item<float>(), lam * i + (1 - lam) * (3 - i), 1e-5);
  }
}

TEST(MixBatch, ProbabilityZeroLeavesImagesAndSmoothsTargets) {
  auto c = Config("mixup_alpha: 0.8 cutmix_alpha: 1 prob: 0 switch_prob: 0.5 correct_lam: true "
                  "mode: PAIR");
  at::Generator g = MakeCpuGenerator(1);
  const at::Tensor x = IndexImages(4);
  const MixedBatch m = MixBatch(x, Labels(4), 10, 0.1, c, g);
  EXPECT_TRUE(at::equal(m.images, x));
  EXPECT_TRUE(at::allclose(m.targets, SmoothedOneHot(Labels(4), 10, 0.1)));
  EXPECT_NEAR(m.targets[0][0].item<float>(), 0.91f, 1e-6);  // 1 - 0.1 + 0.1 / 10
}

TEST(MixBatch, SameSeedSameBatch) {
  auto c = Config("mixup_alpha: 0.8 cutmix_alpha: 1 prob: 0.7 switch_prob: 0.5 correct_lam: true "
                  "mode: ELEM");
  const at::Tensor x = at::rand({8, 1, 10, 10});
  at::Generator g1 = MakeCpuGenerator(42), g2 = MakeCpuGenerator(42);
  const MixedBatch a = MixBatch(x, Labels(8), 10, 0.1, c, g1);
  const MixedBatch b = MixBatch(x, Labels(8), 10, 0.1, c, g2);
  EXPECT_TRUE(at::equal(a.images, b.images));
  EXPECT_TRUE(at::equal(a.targets, b.targets));
}

TEST(ValidateMixupConfig, BadValuesNameTheField) {
  const std::string ok = "mixup_alpha: 0.8 cutmix_alpha: 1 prob: 1 switch_prob: 0.5 "
                         "correct_lam: true mode: BATCH ";
  EXPECT_THAT(ValidateMixupConfig(Config(ok), 64), IsOk());
  EXPECT_THAT(ValidateMixupConfig(Config(ok), 63),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("training.batch_size: must be even with training.mixup")));
  using Edit = std::function<void(proto::MixupConfig&)>;
  const std::vector<std::pair<Edit, std::string>> cases = {
      {[](auto& c) { c.set_mixup_alpha(-1); }, "training.mixup.mixup_alpha: must be >= 0, got -1"},
      {[](auto& c) { c.set_cutmix_alpha(-0.5); },
       "training.mixup.cutmix_alpha: must be >= 0, got -0.5"},
      {[](auto& c) { c.set_prob(1.5); }, "training.mixup.prob: must be in [0, 1], got 1.5"},
      {[](auto& c) { c.set_switch_prob(-0.1); },
       "training.mixup.switch_prob: must be in [0, 1], got -0.1"},
      {[](auto& c) { c.mutable_cutmix_minmax()->set_min(0.6); c.mutable_cutmix_minmax()->set_max(0.3); },
       "training.mixup.cutmix_minmax: must be min = max = 0 (off) or 0 < min < max <= 1, got "
       "min 0.6 max 0.3"},
      {[](auto& c) { c.mutable_cutmix_minmax()->set_min(0.2); c.mutable_cutmix_minmax()->set_max(0.6); c.set_cutmix_alpha(0.5); },
       "training.mixup.cutmix_alpha: must be 1 with cutmix_minmax"},
      {[](auto& c) { c.set_mixup_alpha(0); c.set_cutmix_alpha(0); }, "must not both be 0"},
      {[](auto& c) { c.set_mode(proto::MixupConfig::MODE_UNSPECIFIED); },
       "training.mixup.mode: must be BATCH, PAIR or ELEM"},
  };
  for (const auto& [edit, message] : cases) {
    proto::MixupConfig c = Config(ok);
    edit(c);
    EXPECT_THAT(ValidateMixupConfig(c, 64),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(message)))
        << c.ShortDebugString();
  }
}

}  // namespace
}  // namespace robustness
