#include "robustness/corruptions/severity_table.h"

#include "gtest/gtest.h"
#include "robustness/base/status_matchers.h"

namespace robustness {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(SeverityTable, ZoomListsHaveNumpysArangeLengths) {
  // ood_suite.md 1.3: 12/16/11/13/11 factors (IN-C), 7/12/16/21/26 (CIFAR), 1.00 first.
  const int in_c[] = {12, 16, 11, 13, 11}, cifar[] = {7, 12, 16, 21, 26};
  for (int s = 1; s <= 5; ++s) {
    auto a = SeverityParameters(proto::IMAGENET_C, proto::ZOOM_BLUR, s);
    auto b = SeverityParameters(proto::CIFAR10_C, proto::ZOOM_BLUR, s);
    ASSERT_THAT(a.status(), IsOk());
    ASSERT_THAT(b.status(), IsOk());
    EXPECT_EQ(static_cast<int>(a->size()), in_c[s - 1]) << s;
    EXPECT_EQ(static_cast<int>(b->size()), cifar[s - 1]) << s;
    EXPECT_EQ(a->front(), 1.0);
  }
}

TEST(SeverityTable, ArangeIsNumpysToTheLastBit) {
  // numpy.arange(1, 1.31, .03)[10] == 1.3000000000000003, not 1 + 10 * .03 == 1.2999999999999998.
  EXPECT_EQ(NumpyArange(1, 1.31, .03)[10], 1.3000000000000003);
  EXPECT_EQ(NumpyArange(1, 1.31, .03).size(), 11u);
}

TEST(SeverityTable, SpotChecksAgainstTheSheet) {
  EXPECT_THAT(*SeverityParameters(proto::IMAGENET_C, proto::GLASS_BLUR, 5),
              ElementsAre(1.5, 4, 2));
  EXPECT_THAT(*SeverityParameters(proto::CIFAR10_C, proto::SHOT_NOISE, 1), ElementsAre(500));
  EXPECT_THAT(*SeverityParameters(proto::IMAGECORRUPTIONS, proto::ELASTIC_TRANSFORM, 1),
              ElementsAre(12.5));
  EXPECT_THAT(*SeverityParameters(proto::TINY_IMAGENET_C, proto::SPATTER, 5),
              ElementsAre(.65, .1, .5, .67, .6, 1));
  EXPECT_THAT(*SeverityParameters(proto::TINY_IMAGENET_C, proto::SNOW, 1),
              ElementsAre(.1, .2, 1, .6, 8, 3, .8));
}

TEST(SeverityTable, EveryCorruptionHasFiveRowsInEveryTable) {
  for (auto table : {proto::IMAGENET_C, proto::IMAGECORRUPTIONS, proto::CIFAR10_C,
                     proto::TINY_IMAGENET_C}) {
    for (int c = 1; c <= 19; ++c) {
      for (int s = 1; s <= 5; ++s) {
        auto p = SeverityParameters(table, static_cast<proto::Corruption>(c), s);
        ASSERT_THAT(p.status(), IsOk());
        EXPECT_FALSE(p->empty()) << table << " " << c << " " << s;
      }
    }
  }
}

TEST(SeverityTable, SeverityOutsideOneToFiveIsAnError) {
  EXPECT_THAT(SeverityParameters(proto::CIFAR10_C, proto::FOG, 0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("got 0")));
  EXPECT_THAT(SeverityParameters(proto::CIFAR10_C, proto::FOG, 6),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("got 6")));
  EXPECT_THAT(SeverityParameters(proto::SEVERITY_TABLE_UNSPECIFIED, proto::FOG, 1),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("severity_table")));
}

}  // namespace
}  // namespace robustness
