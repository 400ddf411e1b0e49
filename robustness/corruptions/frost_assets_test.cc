#include "robustness/corruptions/frost_assets.h"

#include <filesystem>
#include <string>

#include "gtest/gtest.h"
#include "robustness/base/atomic_file.h"
#include "robustness/base/status_matchers.h"
#include "robustness/datasets/image_codec.h"

namespace robustness {
namespace {

using ::testing::HasSubstr;

std::string GimpPattern(uint32_t w, uint32_t h, uint32_t bpp, uint8_t base) {
  std::string s;
  auto be = [&](uint32_t v) {
    for (int k = 24; k >= 0; k -= 8) s.push_back(static_cast<char>((v >> k) & 0xFF));
  };
  be(29);
  be(1);
  be(w);
  be(h);
  be(bpp);
  s += "GPAT";
  s += std::string("Ice\0", 5);
  for (uint32_t i = 0; i < w * h * bpp; ++i) s.push_back(static_cast<char>(base + i));
  return s;
}

TEST(FrostAssets, ReadsGimpPatternsAndPngs) {
  const std::string dir = testing::TempDir() + "/frost_ok";
  std::filesystem::create_directories(dir);
  ASSERT_THAT(WriteFileAtomically(dir + "/a.pat", GimpPattern(4, 3, 3, 10)), IsOk());
  ASSERT_THAT(WritePng(dir + "/b.png", torch::full({3, 40, 50}, 0.5)), IsOk());
  proto::FrostAssets config;
  config.set_folder(dir);
  config.add_files("a.pat");
  config.add_files("b.png");
  config.set_scale_override(0);
  auto assets = FrostAssets::Load(config, proto::IMAGENET_C);
  ASSERT_THAT(assets.status(), IsOk());
  ASSERT_EQ((*assets)->count(), 2);
  const Uint8Image& a = (*assets)->original(0);
  EXPECT_EQ(a.height, 3);
  EXPECT_EQ(a.width, 4);
  EXPECT_EQ(a.plane(0)[0], 10);  // pixel 0 is (10, 11, 12)
  EXPECT_EQ(a.plane(2)[0], 12);
  EXPECT_EQ((*assets)->original(1).plane(1)[7], 128);
  // IN-C: no rescale; a 3 x 4 texture cannot cover 28 x 28.
  EXPECT_THAT((*assets)->Resized(0, 28, 28).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       testing::AllOf(HasSubstr("a.pat"), HasSubstr("scale_override"))));
  auto b = (*assets)->Resized(1, 28, 28);
  ASSERT_THAT(b.status(), IsOk());
  EXPECT_EQ((*b)->height, 40);
}

TEST(FrostAssets, ImagecorruptionsRuleCoversTheImageTimesOnePointOne) {
  const std::string dir = testing::TempDir() + "/frost_cover";
  std::filesystem::create_directories(dir);
  ASSERT_THAT(WritePng(dir + "/f.png", torch::rand({3, 20, 30})), IsOk());
  proto::FrostAssets config;
  config.set_folder(dir);
  config.add_files("f.png");
  config.set_scale_override(0);
  auto assets = FrostAssets::Load(config, proto::IMAGECORRUPTIONS);
  ASSERT_THAT(assets.status(), IsOk());
  auto r = (*assets)->Resized(0, 32, 32);  // scale max(32/20, 32/30) * 1.1 = 1.76
  ASSERT_THAT(r.status(), IsOk());
  EXPECT_EQ((*r)->height, 36);  // ceil(20 * 1.76)
  EXPECT_EQ((*r)->width, 53);   // ceil(30 * 1.76)
}

TEST(FrostAssets, MissingFolderFileAndBadPatternAreNamed) {
  proto::FrostAssets config;
  config.set_folder("/nonexistent/frost");
  config.add_files("frost1.png");
  config.set_scale_override(0);
  EXPECT_THAT(FrostAssets::Load(config, proto::IMAGENET_C).status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/frost")));
  const std::string dir = testing::TempDir() + "/frost_bad";
  std::filesystem::create_directories(dir);
  config.set_folder(dir);
  EXPECT_THAT(FrostAssets::Load(config, proto::IMAGENET_C).status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("frost1.png")));
  ASSERT_THAT(WriteFileAtomically(dir + "/x.pat", "not a pattern at all, no magic here"), IsOk());
  config.set_files(0, "x.pat");
  EXPECT_THAT(FrostAssets::Load(config, proto::IMAGENET_C).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("x.pat")));
  config.clear_files();
  EXPECT_THAT(FrostAssets::Load(config, proto::IMAGENET_C).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("files is empty")));
}

}  // namespace
}  // namespace robustness
