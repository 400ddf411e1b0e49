#include "robustness/base/process_setup.h"

#include "robustness/base/malloc_policy.h"
#include "robustness/base/openmp_wait_policy.h"

namespace robustness {

void PrepareTensorProcess(char** argv) {
  EnsurePassiveOpenMpWait(argv);
  UseTensorFriendlyMalloc();
}

}  // namespace robustness
