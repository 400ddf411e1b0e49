#include "robustness/base/malloc_policy.h"

#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <initializer_list>

namespace robustness {

bool UseTensorFriendlyMalloc() {
  for (const char* variable :
       {"MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES"}) {
    if (std::getenv(variable) != nullptr) return false;
  }
  // mallopt returns 1 on success, 0 on error (a value out of its range).
  if (mallopt(M_MMAP_THRESHOLD, static_cast<int>(kTensorMmapThresholdBytes)) != 1 ||
      mallopt(M_TRIM_THRESHOLD, static_cast<int>(kTensorTrimThresholdBytes)) != 1) {
    std::fprintf(stderr,
                 "warning: mallopt refused the tensor-friendly thresholds; freed tensor memory "
                 "goes back to the OS and every step page-faults it in again\n");
    return false;
  }
  return true;
}

}  // namespace robustness
