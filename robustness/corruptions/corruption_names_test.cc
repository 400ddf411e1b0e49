#include "robustness/corruptions/corruption_names.h"

#include "gtest/gtest.h"
#include "robustness/base/status_matchers.h"

namespace robustness {
namespace {

TEST(CorruptionNames, RoundTripAllNineteenInTheReferenceOrder) {
  ASSERT_EQ(AllCorruptions().size(), 19u);
  EXPECT_EQ(CorruptionName(AllCorruptions().front()), "gaussian_noise");
  EXPECT_EQ(CorruptionName(AllCorruptions()[14]), "jpeg_compression");
  EXPECT_EQ(CorruptionName(AllCorruptions().back()), "saturate");
  for (proto::Corruption c : AllCorruptions()) {
    absl::StatusOr<proto::Corruption> parsed = ParseCorruptionName(CorruptionName(c));
    ASSERT_THAT(parsed.status(), IsOk());
    EXPECT_EQ(*parsed, c);
  }
}

TEST(CorruptionNames, CommonSetIsTheFirstFifteen) {
  EXPECT_EQ(CommonCorruptions().size(), 15u);
  EXPECT_TRUE(IsCommonCorruption(proto::JPEG_COMPRESSION));
  EXPECT_FALSE(IsCommonCorruption(proto::SPECKLE_NOISE));
  EXPECT_EQ(CorruptionCategory(proto::FOG), "weather");
  EXPECT_EQ(CorruptionCategory(proto::PIXELATE), "digital");
  EXPECT_EQ(CorruptionCategory(proto::SATURATE), "extra");
}

TEST(CorruptionNames, UnknownNameListsTheValidOnes) {
  EXPECT_THAT(ParseCorruptionName("gaussian"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       testing::AllOf(testing::HasSubstr("'gaussian'"),
                                      testing::HasSubstr("gaussian_noise"))));
}

}  // namespace
}  // namespace robustness
