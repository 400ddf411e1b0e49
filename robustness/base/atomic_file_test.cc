#include "robustness/base/atomic_file.h"

#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/status_matchers.h"

namespace robustness {
namespace {

using ::testing::HasSubstr;

std::string TempDir() { return ::testing::TempDir(); }

TEST(AtomicFile, WritesAndReadsBack) {
  const std::string path = TempDir() + "/atomic_a.txt";
  ASSERT_THAT(WriteFileAtomically(path, "hello"), IsOk());
  ASSERT_THAT(WriteFileAtomically(path, "world"), IsOk());
  auto contents = ReadFileToString(path);
  ASSERT_THAT(contents, IsOk());
  EXPECT_EQ(*contents, "world");
}

TEST(AtomicFile, FailedWriterLeavesOldFileAndNoTemp) {
  const std::string dir = TempDir() + "/atomic_b";
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/r.json";
  ASSERT_THAT(WriteFileAtomically(path, "old"), IsOk());
  absl::Status s = WriteFileAtomicallyWith(path, [](const std::string& temp) {
    std::FILE* f = std::fopen(temp.c_str(), "wb");
    std::fputs("half", f);
    std::fclose(f);
    return absl::InternalError("writer died");
  });
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInternal, HasSubstr("writer died")));
  EXPECT_EQ(*ReadFileToString(path), "old");
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) { (void)e; ++files; }
  EXPECT_EQ(files, 1);
}

TEST(AtomicFile, MissingFileIsNotFound) {
  EXPECT_THAT(ReadFileToString(TempDir() + "/nope"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("nope")));
}

TEST(AtomicFile, UnwritableFolderNamesIt) {
  if (::geteuid() == 0) {
    // root ignores permission bits; a path under a regular file cannot be a folder for anyone.
    const std::string file = TempDir() + "/plain_file";
    ASSERT_THAT(WriteFileAtomically(file, "x"), IsOk());
    EXPECT_THAT(EnsureWritableDirectory(file + "/out"),
                StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr(file + "/out")));
    return;
  }
  const std::string dir = TempDir() + "/readonly";
  std::filesystem::create_directories(dir);
  ::chmod(dir.c_str(), 0555);
  EXPECT_THAT(EnsureWritableDirectory(dir), StatusIs(absl::StatusCode::kPermissionDenied,
                                                     HasSubstr(dir)));
}

}  // namespace
}  // namespace robustness
