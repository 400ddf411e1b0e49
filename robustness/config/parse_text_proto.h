// Test-only: build a config message inline from text format (MediaPipe's ParseTextProtoOrDie).
//
//   auto config = ParseTextProtoOrDie<proto::PgdConfig>(R"pb(num_steps: 10 norm: LINF)pb");
//
// Aborts with the parser's message on a syntax error. Only tests may use the OrDie form; runtime
// code reads configs with ReadTextProtoFile (text_proto_file.h), which returns a Status.
#ifndef ROBUSTNESS_CONFIG_PARSE_TEXT_PROTO_H_
#define ROBUSTNESS_CONFIG_PARSE_TEXT_PROTO_H_

#include <string>

#include "glog/logging.h"
#include "google/protobuf/text_format.h"

namespace robustness {

template <typename T>
T ParseTextProtoOrDie(const std::string& text) {
  T message;
  CHECK(google::protobuf::TextFormat::ParseFromString(text, &message))
      << "cannot parse text proto: " << text;
  return message;
}

}  // namespace robustness

#endif  // ROBUSTNESS_CONFIG_PARSE_TEXT_PROTO_H_
