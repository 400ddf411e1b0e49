// The one seam between LibTorch's exceptions and absl::Status.
//
// LibTorch reports errors by throwing c10::Error (TORCH_CHECK) or std::exception. Inside compute code
// those are programmer errors and propagate; at IO boundaries (checkpoint files, loaders, main) they
// are caught and turned into a Status with the context of what was being done.
#ifndef ROBUSTNESS_BASE_TORCH_STATUS_H_
#define ROBUSTNESS_BASE_TORCH_STATUS_H_

#include <exception>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace robustness {

// Runs `fn`; a thrown c10::Error or std::exception becomes `code` with message
// "<context>: <first line of the exception text>". A returned non-OK status passes through.
absl::Status CallTorch(absl::string_view context, const std::function<absl::Status()>& fn,
                       absl::StatusCode code = absl::StatusCode::kInternal);

// The first line of an exception's text (c10::Error appends a long C++ backtrace).
std::string ExceptionSummary(const std::exception& e);

}  // namespace robustness

#endif  // ROBUSTNESS_BASE_TORCH_STATUS_H_
