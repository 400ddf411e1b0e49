#include "robustness/base/process_setup.h"

#include <malloc.h>
#include <stdlib.h>

#include <cstddef>
#include <cstring>

#include <gtest/gtest.h>

namespace robustness {
namespace {

// Bazel gives this test OMP_WAIT_POLICY=PASSIVE (.bazelrc), so step 1 keeps the process (the
// re-exec itself is tested by openmp_wait_policy_test) and step 2 must still be applied.
TEST(PrepareTensorProcess, AlsoAppliesTheMallocPolicy) {
  ASSERT_NE(std::getenv("OMP_WAIT_POLICY"), nullptr);
  char program[] = "process_setup_test";
  char* argv[] = {program, nullptr};
  PrepareTensorProcess(argv);
  constexpr size_t kBytes = size_t{16} << 20;
  const size_t mapped_before = mallinfo2().hblks;
  char* block = static_cast<char*>(malloc(kBytes));
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, kBytes);
  EXPECT_EQ(mallinfo2().hblks, mapped_before) << "a 16 MiB block was mmapped: no malloc policy";
  free(block);
}

}  // namespace
}  // namespace robustness
