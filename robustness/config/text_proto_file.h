// Strict loading of text-format config files.
//
// A typo in a key, a wrong type or a syntax error fails loudly with "path:line:col: message"
// (unknown fields are errors, never skipped). Presence and range checks are separate:
// RequireAllFieldsSet (require_fields.h) and each consumer's Validate*Config.
#ifndef ROBUSTNESS_CONFIG_TEXT_PROTO_FILE_H_
#define ROBUSTNESS_CONFIG_TEXT_PROTO_FILE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "google/protobuf/text_format.h"

namespace robustness {

// Parses `text` into `message` (cleared first). `source_name` prefixes errors ("<name>:3:7: ...").
// `locations`, when given, receives where each field was written (composed_config.h uses it).
absl::Status ParseTextProto(absl::string_view text, absl::string_view source_name,
                            google::protobuf::Message* message,
                            google::protobuf::TextFormat::ParseInfoTree* locations = nullptr);

// Reads and parses the file at `path`. NotFound if missing; InvalidArgument with path:line:col on
// a parse error.
absl::Status ReadTextProtoFile(const std::string& path, google::protobuf::Message* message);

template <typename T>
absl::StatusOr<T> ReadTextProtoFile(const std::string& path) {
  T message;
  absl::Status status = ReadTextProtoFile(path, &message);
  if (!status.ok()) return status;
  return message;
}

// The canonical text form of a message (what is written as resolved_config.pbtxt and hashed).
std::string ToTextProto(const google::protobuf::Message& message);

}  // namespace robustness

#endif  // ROBUSTNESS_CONFIG_TEXT_PROTO_FILE_H_
