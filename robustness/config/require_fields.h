// "The config pins every hyperparameter", enforced mechanically.
//
// RequireAllFieldsSet walks a message by reflection: every singular field with presence (proto3
// `optional` scalars, sub-messages) must be set, every oneof must have a case, every repeated
// field must be non-empty, recursively (into repeated messages too). There are no hidden
// defaults: a config that omits `weight_decay` is an error, not a silent 0.
//
// Errors list every missing field by its path from the root, e.g.
//   "config.pbtxt: missing required fields: models[1].training.optimizer.weight_decay, ..."
#ifndef ROBUSTNESS_CONFIG_REQUIRE_FIELDS_H_
#define ROBUSTNESS_CONFIG_REQUIRE_FIELDS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace robustness {

// Paths of the unset fields (empty when complete).
std::vector<std::string> MissingFields(const google::protobuf::Message& message);

// OK, or InvalidArgument "<source>: missing required fields: a.b, c[0].d".
absl::Status RequireAllFieldsSet(const google::protobuf::Message& message,
                                 absl::string_view source);

}  // namespace robustness

#endif  // ROBUSTNESS_CONFIG_REQUIRE_FIELDS_H_
