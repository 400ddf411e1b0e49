#include "robustness/harness/paper_numbers.h"

#include <set>
#include <tuple>

#include "gtest/gtest.h"
#include "robustness/config/require_fields.h"

namespace robustness {
namespace {

TEST(PaperNumbers, EveryEntryIsCompleteUniqueAndSourced) {
  ASSERT_GT(PaperTable().numbers_size(), 0);
  std::set<std::tuple<std::string, std::string, std::string>> keys;
  for (const auto& n : PaperTable().numbers()) {
    EXPECT_TRUE(MissingFields(n).empty()) << n.ShortDebugString();
    EXPECT_TRUE(keys.insert({n.table(), n.row(), n.column()}).second) << n.ShortDebugString();
    EXPECT_EQ(n.source().rfind("PAPER.md", 0), 0u) << n.ShortDebugString();
    EXPECT_GE(n.value(), 0);
    EXPECT_LE(n.value(), 100);
  }
}

TEST(PaperNumbers, TableOneCellsAsPaperMdGivesThem) {
  EXPECT_EQ(PaperCell("1", "DeiT-S", "clean"), "76.8");
  EXPECT_EQ(PaperCell("1", "DeiT-S", "autoattack_0.001"), "22.1");
  EXPECT_EQ(PaperCell("1", "ResNet-50", "autoattack_0.001"), "13.5 (unconfirmed)");
  EXPECT_EQ(PaperCell("1", "ResNet-50", "no such column"), "-");
}

}  // namespace
}  // namespace robustness
