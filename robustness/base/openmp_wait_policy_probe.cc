// Test helper for openmp_wait_policy_test: calls EnsurePassiveOpenMpWait, then prints the
// OMP_WAIT_POLICY it runs with and its arguments after argv[0], one per line.
#include <cstdio>
#include <cstdlib>

#include "robustness/base/openmp_wait_policy.h"

int main(int argc, char** argv) {
  robustness::EnsurePassiveOpenMpWait(argv);
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  std::printf("policy=%s\n", policy == nullptr ? "(unset)" : policy);
  for (int i = 1; i < argc; ++i) std::printf("arg=%s\n", argv[i]);
  return 0;
}
