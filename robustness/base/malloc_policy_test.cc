#include "robustness/base/malloc_policy.h"

#include <malloc.h>
#include <stdlib.h>

#include <cstddef>
#include <cstring>

#include <gtest/gtest.h>

namespace robustness {
namespace {

// The process starts with glibc's defaults (this test gets no MALLOC_* variables), so a 16 MiB
// block would be mmapped and unmapped again, never reused.
TEST(MallocPolicy, FreedBlocksBelow32MiBStayInTheHeap) {
  ASSERT_TRUE(UseTensorFriendlyMalloc());
  constexpr size_t kBytes = size_t{16} << 20;
  const size_t mapped_before = mallinfo2().hblks;
  char* block = static_cast<char*>(malloc(kBytes));
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, kBytes);
  EXPECT_EQ(mallinfo2().hblks, mapped_before) << "a 16 MiB block was mmapped";
  free(block);
  EXPECT_GE(mallinfo2().fordblks, kBytes) << "the freed 16 MiB went back to the OS";
}

TEST(MallocPolicy, LeavesTheUsersChoiceAlone) {
  ASSERT_EQ(setenv("MALLOC_TRIM_THRESHOLD_", "131072", /*overwrite=*/1), 0);
  EXPECT_FALSE(UseTensorFriendlyMalloc());
  unsetenv("MALLOC_TRIM_THRESHOLD_");
  ASSERT_EQ(setenv("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=131072", 1), 0);
  EXPECT_FALSE(UseTensorFriendlyMalloc());
  unsetenv("GLIBC_TUNABLES");
}

}  // namespace
}  // namespace robustness
