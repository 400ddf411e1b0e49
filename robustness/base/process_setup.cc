#include "robustness/base/process_setup.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "robustness/base/kernel_isa.h"
#include "robustness/base/malloc_policy.h"
#include "robustness/base/openmp_wait_policy.h"

namespace robustness {

void PrepareTensorProcess(char** argv) {
  const bool portable_changed = ApplyPortableKernelEnvironment();
  const bool openblas_changed = ApplyOpenBlasCoreFallbackFix();
  const bool kernels_changed = portable_changed || openblas_changed;
  // One re-exec serves both: EnsurePassiveOpenMpWait re-executes when it sets the wait policy;
  // when the user set the policy, the kernel pin needs a re-exec of its own.
  if (kernels_changed && std::getenv(kOpenMpWaitPolicyVariable) != nullptr) {
    execv("/proc/self/exe", argv);
    std::fprintf(stderr, "warning: could not re-execute for the kernel settings (%s)\n",
                 std::strerror(errno));
  }
  EnsurePassiveOpenMpWait(argv);
  UseTensorFriendlyMalloc();
}

}  // namespace robustness
