#include "robustness/base/torch_status.h"

#include <c10/util/Exception.h>

#include "absl/strings/str_cat.h"

namespace robustness {

std::string ExceptionSummary(const std::exception& e) {
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&e)) {
    // what_without_backtrace() still carries the message lines; keep the first.
    std::string msg = c10_error->what_without_backtrace();
    return msg.substr(0, msg.find('\n'));
  }
  std::string msg = e.what();
  return msg.substr(0, msg.find('\n'));
}

absl::Status CallTorch(absl::string_view context, const std::function<absl::Status()>& fn,
                       absl::StatusCode code) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return absl::Status(code, absl::StrCat(context, ": ", ExceptionSummary(e)));
  }
}

}  // namespace robustness
