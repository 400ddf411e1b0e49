#include "robustness/base/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace robustness {
namespace {

absl::Status ErrnoError(absl::string_view what, const std::string& path) {
  return absl::Status(errno == ENOENT ? absl::StatusCode::kNotFound
                                      : absl::StatusCode::kPermissionDenied,
                      absl::StrCat(what, " '", path, "': ", std::strerror(errno)));
}

absl::Status FsyncPath(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return ErrnoError("cannot open for fsync", path);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return ErrnoError("fsync failed for", path);
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteFileAtomicallyWith(
    const std::string& path,
    const std::function<absl::Status(const std::string& temp_path)>& write_to_temp) {
  const std::string temp = absl::StrCat(path, ".tmp.", ::getpid());
  absl::Status status = write_to_temp(temp);
  if (status.ok()) status = FsyncPath(temp);
  if (status.ok() && std::rename(temp.c_str(), path.c_str()) != 0) {
    status = ErrnoError("cannot rename temporary file onto", path);
  }
  if (!status.ok()) std::remove(temp.c_str());
  return status;
}

absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents) {
  return WriteFileAtomicallyWith(path, [&](const std::string& temp) -> absl::Status {
    std::FILE* f = std::fopen(temp.c_str(), "wb");
    if (f == nullptr) return ErrnoError("cannot create", temp);
    const size_t written = std::fwrite(contents.data(), 1, contents.size(), f);
    const bool ok = written == contents.size() && std::fflush(f) == 0;
    if (std::fclose(f) != 0 || !ok) return ErrnoError("cannot write", temp);
    return absl::OkStatus();
  });
}

absl::StatusOr<std::string> ReadFileToString(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!std::filesystem::exists(path)) {
      return absl::NotFoundError(absl::StrCat("file not found: '", path, "'"));
    }
    return absl::PermissionDeniedError(absl::StrCat("cannot read '", path, "'"));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::Status EnsureWritableDirectory(const std::string& dir) {
  if (dir.empty()) return absl::InvalidArgumentError("output folder path is empty");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create output folder '", dir, "': ", ec.message()));
  }
  if (!std::filesystem::is_directory(dir)) {
    return absl::FailedPreconditionError(absl::StrCat("output path '", dir, "' is not a folder"));
  }
  const std::string probe = absl::StrCat(dir, "/.write_probe.", ::getpid());
  std::FILE* f = std::fopen(probe.c_str(), "wb");
  if (f == nullptr) return ErrnoError("output folder is not writable:", dir);
  std::fclose(f);
  std::remove(probe.c_str());
  return absl::OkStatus();
}

}  // namespace robustness
