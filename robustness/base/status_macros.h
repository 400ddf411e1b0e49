// Status propagation macros: the project's small stand-in for absl/status/status_macros.h, which
// Debian's Abseil (20220623) does not ship. Same semantics as Abseil's later ABSL_RETURN_IF_ERROR /
// ABSL_ASSIGN_OR_RETURN.
//
//   RETURN_IF_ERROR(WriteFile(path));
//   ASSIGN_OR_RETURN(Dataset ds, LoadDataset(config));
#ifndef ROBUSTNESS_BASE_STATUS_MACROS_H_
#define ROBUSTNESS_BASE_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define ROBUSTNESS_CONCAT_INNER_(a, b) a##b
#define ROBUSTNESS_CONCAT_(a, b) ROBUSTNESS_CONCAT_INNER_(a, b)

// Evaluates `expr` (an absl::Status); returns it from the enclosing function if not OK.
#define RETURN_IF_ERROR(expr)                                   \
  do {                                                          \
    const ::absl::Status robustness_status_ = (expr);           \
    if (!robustness_status_.ok()) return robustness_status_;    \
  } while (false)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status, otherwise moves the
// value into `lhs` (which may be a declaration such as `auto x` or `Foo x`).
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  ROBUSTNESS_ASSIGN_OR_RETURN_IMPL_(ROBUSTNESS_CONCAT_(robustness_statusor_, __LINE__), lhs, rexpr)

#define ROBUSTNESS_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                       \
  if (!statusor.ok()) return std::move(statusor).status();       \
  lhs = std::move(statusor).value()

#endif  // ROBUSTNESS_BASE_STATUS_MACROS_H_
