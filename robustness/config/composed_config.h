// Config composition: recipes, model blocks and data blocks are written once, as text protos in
// the repository, and experiment configs refer to them by path with field overrides.
//
// Any message with a plain `string include = 100;` field composes. In a config file
//
//   models {
//     include: "robustness/recipes/fashion_mnist/resnet18_w4_cnn.pbtxt"   # a ModelRun file
//     label: "ResNet-18/4 (CNN recipe)"
//     training { epochs: 5 optimizer { peak_lr: 0.2 } }
//   }
//
// the block is the included file (parsed strictly as the enclosing field's type, its own
// includes resolved first), then the fields written beside `include` override it:
//   * a scalar replaces;
//   * a sub-message merges field by field (so `optimizer { peak_lr: 0.2 }` keeps the recipe's
//     other optimizer fields); a different case of a oneof replaces the included case;
//   * a repeated field replaces the whole list.
// An override that names no field is an ordinary strict-parse error (file:line:col).
//
// Include paths: absolute; "./" or "../" relative to the including file; otherwise
// workspace-relative, looked up in the including file's folder and each folder above it (so
// the same path works in the checkout and in bazel's runfiles), then under
// $BUILD_WORKSPACE_DIRECTORY (bazel run), then the current folder.
//
// Errors: a missing include names the including file and line and every place tried; a
// circular include names the cycle; parse errors name file:line:col of the file they are in.
//
// Origins: for every field of the resolved config, the file and line where its value was
// written, so a range check on a resolved value can point at the file the user must edit.
#ifndef ROBUSTNESS_CONFIG_COMPOSED_CONFIG_H_
#define ROBUSTNESS_CONFIG_COMPOSED_CONFIG_H_

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace robustness {

// Field path -> "file:line" where it was written. Paths are dotted field names with repeated
// indices: "models[1].training.optimizer.peak_lr".
class ConfigOrigins {
 public:
  // The origin of `path`, or of its nearest recorded ancestor; "" if none is known.
  std::string Find(absl::string_view path) const;

  // `status` with its message prefixed by "<origin>: " where `status`'s message starts with a
  // field path (as every Validate*Config error does: "training.epochs: must be ...") that,
  // joined to `path_prefix` ("models[0]."), has a known origin. OK stays OK.
  absl::Status Annotate(const absl::Status& status, absl::string_view path_prefix) const;

  struct Entry {
    std::string where;      // "file:line"
    bool replaces = false;  // a scalar or repeated field: overrides everything below it
  };
  std::map<std::string, Entry>& entries() { return entries_; }
  const std::map<std::string, Entry>& entries() const { return entries_; }

 private:
  std::map<std::string, Entry> entries_;
};

// Reads `path` into `message` (cleared first) with every include resolved, and records where
// each field came from in `origins` (may be null). Unknown fields, missing files and circular
// includes are errors (see above).
absl::Status ReadComposedConfig(const std::string& path, google::protobuf::Message* message,
                                ConfigOrigins* origins = nullptr);

// The same for text held in memory (a command line's --set fragment, a test): `source_name`
// stands for the file in errors and origins, and relative includes are resolved from
// `base_dir`.
absl::Status ParseComposedConfig(absl::string_view text, absl::string_view source_name,
                                 const std::string& base_dir, google::protobuf::Message* message,
                                 ConfigOrigins* origins = nullptr);

// ReadComposedConfig(path), then the command line's `fragment` (text of the same message, e.g.
// a tool's --set flag; empty = none) on top: the file is the fragment's include, so the
// fragment's fields override it and its errors name "--set:<line>:<column>". NotFound naming
// `path` if it does not exist.
absl::Status ReadComposedConfigWithFragment(const std::string& path, const std::string& fragment,
                                            google::protobuf::Message* message,
                                            ConfigOrigins* origins = nullptr);

// Overrides `base` with every field set in `overrides` (same type), by the rules above; the
// `include` fields are ignored. Exposed for tools that layer command-line fragments.
void MergeOverride(const google::protobuf::Message& overrides, google::protobuf::Message* base);

}  // namespace robustness

#endif  // ROBUSTNESS_CONFIG_COMPOSED_CONFIG_H_
