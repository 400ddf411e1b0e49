#include "robustness/base/openmp_wait_policy.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "gtest/gtest.h"

namespace robustness {
namespace {

// Runs the probe binary (a data dependency) under `env_prefix` and returns what it printed.
std::string RunProbe(const std::string& env_prefix) {
  const std::string command = env_prefix + " robustness/base/openmp_wait_policy_probe 'a b' c";
  FILE* pipe = popen(command.c_str(), "r");
  EXPECT_NE(pipe, nullptr) << command;
  if (pipe == nullptr) return "";
  std::string output;
  char buffer[256];
  while (fgets(buffer, sizeof(buffer), pipe) != nullptr) output += buffer;
  EXPECT_EQ(pclose(pipe), 0) << command;
  return output;
}

TEST(EnsurePassiveOpenMpWait, ReexecutesWithPassiveWhenUnset) {
  EXPECT_EQ(RunProbe("env -u OMP_WAIT_POLICY"), "policy=PASSIVE\narg=a b\narg=c\n");
}

TEST(EnsurePassiveOpenMpWait, RespectsAValueTheUserSet) {
  EXPECT_EQ(RunProbe("env OMP_WAIT_POLICY=ACTIVE"), "policy=ACTIVE\narg=a b\narg=c\n");
}

}  // namespace
}  // namespace robustness
