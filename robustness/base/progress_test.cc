#include "robustness/base/progress.h"

#include <cstdio>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace robustness {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(FormatDuration, HumanUnits) {
  EXPECT_EQ(FormatDuration(12.4), "12s");
  EXPECT_EQ(FormatDuration(245), "4m05s");
  EXPECT_EQ(FormatDuration(3723), "1h02m03s");
  EXPECT_EQ(FormatDuration(-1), "?");
}

TEST(ProgressLine, FormatsStepRateEtaAndMetrics) {
  ProgressLine progress("train", 200, "img", 5.0, nullptr);
  const std::string line = progress.Format(50, 6400, "loss 0.5");
  EXPECT_THAT(line, StartsWith("[train] 50/200 (25.0%) | "));
  EXPECT_THAT(line, HasSubstr(" img/s | ETA "));
  EXPECT_THAT(line, HasSubstr("| loss 0.5"));
}

TEST(ProgressLine, AlwaysPrintsFirstAndLastStep) {
  std::FILE* out = std::tmpfile();
  ProgressLine progress("eval", 3, "img", 3600.0, out);
  progress.Update(1, 10);
  progress.Update(2, 20);  // within the interval: silent
  progress.Update(3, 30);
  std::rewind(out);
  char buffer[512];
  int lines = 0;
  while (std::fgets(buffer, sizeof(buffer), out) != nullptr) ++lines;
  std::fclose(out);
  EXPECT_EQ(lines, 2);
}

}  // namespace
}  // namespace robustness
