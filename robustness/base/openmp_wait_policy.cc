#include "robustness/base/openmp_wait_policy.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace robustness {

void EnsurePassiveOpenMpWait(char** argv) {
  if (std::getenv(kOpenMpWaitPolicyVariable) != nullptr) return;
  if (setenv(kOpenMpWaitPolicyVariable, kOpenMpPassiveWaitPolicy, /*overwrite=*/1) != 0) return;
  // /proc/self/exe rather than argv[0]: argv[0] may be a relative path or a name found on PATH.
  // argv itself is passed on unchanged, so argv[0]-based runfiles lookups keep working.
  execv("/proc/self/exe", argv);
  // Only reached if execv failed; the environment variable is now set but libgomp has already
  // read its (default) policy, so this process keeps spinning waits.
  std::fprintf(stderr,
               "warning: could not re-execute with %s=%s (%s); OpenMP threads will spin-wait, "
               "which slows transformer training on few cores\n",
               kOpenMpWaitPolicyVariable, kOpenMpPassiveWaitPolicy, std::strerror(errno));
}

}  // namespace robustness
