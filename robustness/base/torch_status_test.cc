#include "robustness/base/torch_status.h"

#include <torch/types.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/status_matchers.h"

namespace robustness {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(CallTorch, TurnsTorchErrorIntoStatusWithContext) {
  absl::Status s = CallTorch("while adding", [] {
    torch::ones({2, 3}) + torch::ones({4, 5});  // shape mismatch throws c10::Error
    return absl::OkStatus();
  });
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInternal, HasSubstr("while adding: ")));
  // The long C++ backtrace that c10 appends is cut to the first line.
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("\n")));
}

TEST(CallTorch, PassesReturnedStatusThrough) {
  EXPECT_THAT(CallTorch("x", [] { return absl::NotFoundError("gone"); }),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("gone")));
  EXPECT_THAT(CallTorch("x", [] { return absl::OkStatus(); }), IsOk());
}

}  // namespace
}  // namespace robustness
