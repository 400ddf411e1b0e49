#include "robustness/config/run_paths.h"

#include <cstdlib>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/atomic_file.h"
#include "robustness/base/status_matchers.h"

namespace robustness {
namespace {

using ::testing::HasSubstr;

TEST(RunPaths, RelativeFlagsAreTakenFromTheUsersFolder) {
  const std::string dir = ::testing::TempDir();
  ASSERT_THAT(WriteFileAtomically(dir + "/mine.pbtxt", "x"), IsOk());
  ::setenv("BUILD_WORKING_DIRECTORY", dir.c_str(), 1);
  auto config = ResolveConfigPath("mine.pbtxt", "unused", "prog");
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(*config, dir + "/mine.pbtxt");
  EXPECT_EQ(ResolveOutputDir("res", "bin", *config), dir + "/res");
  ::unsetenv("BUILD_WORKING_DIRECTORY");
}

TEST(RunPaths, DefaultOutputDirIsUnderTheCheckout) {
  ::setenv("BUILD_WORKSPACE_DIRECTORY", "/ws", 1);
  EXPECT_EQ(ResolveOutputDir("", "table1", "a/b/fashion_mnist.pbtxt"),
            "/ws/out/table1/fashion_mnist");
  ::unsetenv("BUILD_WORKSPACE_DIRECTORY");
}

TEST(RunPaths, MissingConfigListsWhereItLooked) {
  EXPECT_THAT(ResolveConfigPath("/nope.pbtxt", "d", "p"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nope.pbtxt")));
  EXPECT_THAT(ResolveConfigPath("", "no/such/default.pbtxt", "prog"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("prog.runfiles/robustness/no/such")));
}

TEST(ResolveStoreRoot, FlagThenEnvironmentThenDefault) {
  unsetenv("BUILD_WORKSPACE_DIRECTORY");
  unsetenv("BUILD_WORKING_DIRECTORY");
  unsetenv("ROBUSTNESS_MODEL_STORE");
  EXPECT_EQ(ResolveStoreRoot(""), "./out/models");
  setenv("ROBUSTNESS_MODEL_STORE", "/data/models", 1);
  EXPECT_EQ(ResolveStoreRoot(""), "/data/models");
  EXPECT_EQ(ResolveStoreRoot("/x"), "/x");
  unsetenv("ROBUSTNESS_MODEL_STORE");
}

}  // namespace
}  // namespace robustness
