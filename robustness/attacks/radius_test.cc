#include "robustness/attacks/radius.h"

#include <cmath>
#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/status_matchers.h"
#include "robustness/config/parse_text_proto.h"
#include "robustness/proto/common.pb.h"

namespace robustness {
namespace {

using ::testing::Eq;

proto::Radius R(const char* text) { return ParseTextProtoOrDie<proto::Radius>(text); }

TEST(RadiusToPixels, ConvertsBothSpellings) {
  EXPECT_DOUBLE_EQ(RadiusToPixels(R("over_255: 4")), 4.0 / 255.0);
  EXPECT_DOUBLE_EQ(RadiusToPixels(R("pixels: 0.001")), 0.001);
}

TEST(RadiusLabel, WritesTheValueAsConfigured) {
  EXPECT_EQ(RadiusLabel(R("over_255: 4")), "4/255");
  EXPECT_EQ(RadiusLabel(R("over_255: 0.5")), "0.5/255");
  EXPECT_EQ(RadiusLabel(R("pixels: 0.001")), "0.001");
  EXPECT_EQ(RadiusLabel(proto::Radius()), "unset");
}

TEST(ValidateRadius, AcceptsTheHalfOpenUnitInterval) {
  EXPECT_THAT(ValidateRadius(R("over_255: 4"), "eps"), IsOk());
  EXPECT_THAT(ValidateRadius(R("pixels: 1"), "eps"), IsOk());
  EXPECT_THAT(ValidateRadius(R("over_255: 255"), "eps"), IsOk());
}

TEST(ValidateRadius, NamesFieldAndValueOnEveryError) {
  const auto kInvalid = absl::StatusCode::kInvalidArgument;
  EXPECT_THAT(ValidateRadius(proto::Radius(), "a.b"),
              StatusIs(kInvalid, Eq("a.b: must be set (pixels or over_255)")));
  EXPECT_THAT(ValidateRadius(R("pixels: 0"), "a.b"),
              StatusIs(kInvalid, Eq("a.b: must be in (0, 1] pixel units, got 0")));
  EXPECT_THAT(ValidateRadius(R("pixels: -0.1"), "a.b"),
              StatusIs(kInvalid, Eq("a.b: must be in (0, 1] pixel units, got -0.1")));
  EXPECT_THAT(ValidateRadius(R("pixels: 4"), "a.b"),  // eps on the 0-255 scale.
              StatusIs(kInvalid, Eq("a.b: must be in (0, 1] pixel units, got 4")));
  EXPECT_THAT(ValidateRadius(R("over_255: 300"), "a.b"),
              StatusIs(kInvalid, Eq("a.b: must be in (0, 1] pixel units, got 300/255")));
  proto::Radius nan;
  nan.set_pixels(std::numeric_limits<double>::quiet_NaN());
  EXPECT_THAT(ValidateRadius(nan, "a.b"),
              StatusIs(kInvalid, Eq("a.b: must be in (0, 1] pixel units, got nan")));
}

TEST(ValidatePixelRadius, RejectsOutsideTheUnitIntervalWithTheValue) {
  EXPECT_THAT(ValidatePixelRadius(4.0 / 255.0, "epsilon"), IsOk());
  EXPECT_THAT(ValidatePixelRadius(1.0, "epsilon"), IsOk());
  EXPECT_THAT(ValidatePixelRadius(0.0, "epsilon"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       Eq("epsilon: must be in (0, 1] pixel units, got 0")));
  EXPECT_THAT(ValidatePixelRadius(8.0, "epsilon"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       Eq("epsilon: must be in (0, 1] pixel units, got 8")));
  EXPECT_THAT(ValidatePixelRadius(std::numeric_limits<double>::infinity(), "epsilon"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       Eq("epsilon: must be in (0, 1] pixel units, got inf")));
}

}  // namespace
}  // namespace robustness
