// gMock matchers for absl::Status / absl::StatusOr (testonly). Debian's Abseil 20220623 has no
// absl/status/status_matchers.h, so the project keeps these two.
//
//   EXPECT_THAT(LoadConfig(path), IsOk());
//   EXPECT_THAT(LoadConfig(bad), StatusIs(absl::StatusCode::kInvalidArgument,
//                                         HasSubstr("epsilon_255")));
#ifndef ROBUSTNESS_BASE_STATUS_MATCHERS_H_
#define ROBUSTNESS_BASE_STATUS_MATCHERS_H_

#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"

namespace robustness {
namespace testing_internal {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

}  // namespace testing_internal

MATCHER(IsOk, "is OK") {
  const absl::Status& s = testing_internal::GetStatus(arg);
  if (!s.ok()) *result_listener << "status is " << s;
  return s.ok();
}

MATCHER_P2(StatusIs, code, message_matcher,
           "has code " + absl::StatusCodeToString(code) + " and a matching message") {
  const absl::Status& s = testing_internal::GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code &&
         ::testing::ExplainMatchResult(message_matcher, std::string(s.message()), result_listener);
}

}  // namespace robustness

#endif  // ROBUSTNESS_BASE_STATUS_MATCHERS_H_
