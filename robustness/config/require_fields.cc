#include "robustness/config/require_fields.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"

namespace robustness {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

std::string Join(const std::string& prefix, absl::string_view name) {
  return prefix.empty() ? std::string(name) : absl::StrCat(prefix, ".", name);
}

void Walk(const Message& message, const std::string& prefix, std::vector<std::string>* missing) {
  const auto* descriptor = message.GetDescriptor();
  const Reflection* reflection = message.GetReflection();
  for (int i = 0; i < descriptor->oneof_decl_count(); ++i) {
    const auto* oneof = descriptor->oneof_decl(i);
    if (oneof->is_synthetic()) continue;  // proto3 `optional` wrappers are checked per field
    if (!reflection->HasOneof(message, oneof)) {
      std::vector<std::string> options;
      for (int j = 0; j < oneof->field_count(); ++j) options.push_back(oneof->field(j)->name());
      missing->push_back(
          absl::StrCat(Join(prefix, oneof->name()), " (one of: ", absl::StrJoin(options, ", "), ")"));
    }
  }
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    const std::string path = Join(prefix, field->name());
    const auto* real_oneof = field->real_containing_oneof();
    if (field->is_repeated()) {
      const int n = reflection->FieldSize(message, field);
      if (n == 0) missing->push_back(path);
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        for (int j = 0; j < n; ++j) {
          Walk(reflection->GetRepeatedMessage(message, field, j), absl::StrCat(path, "[", j, "]"),
               missing);
        }
      }
      continue;
    }
    if (real_oneof != nullptr) {
      // Only the chosen case of a oneof is required (and walked).
      if (reflection->HasField(message, field) &&
          field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        Walk(reflection->GetMessage(message, field), path, missing);
      }
      continue;
    }
    if (!field->has_presence()) continue;  // plain proto3 scalars cannot tell unset from 0
    if (!reflection->HasField(message, field)) {
      missing->push_back(path);
    } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      Walk(reflection->GetMessage(message, field), path, missing);
    }
  }
}

}  // namespace

std::vector<std::string> MissingFields(const Message& message) {
  std::vector<std::string> missing;
  Walk(message, "", &missing);
  return missing;
}

absl::Status RequireAllFieldsSet(const Message& message, absl::string_view source) {
  std::vector<std::string> missing = MissingFields(message);
  if (missing.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      source, ": missing required fields (every hyperparameter must be set): ",
      absl::StrJoin(missing, ", ")));
}

}  // namespace robustness
