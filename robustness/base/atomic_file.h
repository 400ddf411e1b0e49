// Atomic file writes: results and checkpoints are never seen half-written.
//
// The content goes to "<path>.tmp.<pid>" in the same folder, is flushed and fsync'ed, then renamed
// over `path` (rename(2) is atomic within one filesystem). On any failure the temporary file is
// removed and `path` is left as it was.
#ifndef ROBUSTNESS_BASE_ATOMIC_FILE_H_
#define ROBUSTNESS_BASE_ATOMIC_FILE_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace robustness {

// Writes `contents` to `path` atomically. Errors name the path and the OS reason.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents);

// For writers that produce the file themselves (e.g. torch::save): `write_to_temp` is called with
// the temporary path, must create it completely, and returns OK; the file is then fsync'ed and
// renamed over `path`.
absl::Status WriteFileAtomicallyWith(
    const std::string& path, const std::function<absl::Status(const std::string& temp_path)>& write_to_temp);

// Reads a whole file. NotFound if it does not exist.
absl::StatusOr<std::string> ReadFileToString(const std::string& path);

// Creates `dir` and its parents (like mkdir -p) and checks that it is writable by creating and
// removing a probe file. Errors name the folder.
absl::Status EnsureWritableDirectory(const std::string& dir);

}  // namespace robustness

#endif  // ROBUSTNESS_BASE_ATOMIC_FILE_H_
