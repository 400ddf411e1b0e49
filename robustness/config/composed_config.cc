#include "robustness/config/composed_config.h"

#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <functional>
#include <filesystem>
#include <memory>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/text_format.h"
#include "robustness/base/atomic_file.h"
#include "robustness/base/status_macros.h"
#include "robustness/config/text_proto_file.h"

namespace robustness {
namespace {

namespace fs = std::filesystem;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using google::protobuf::TextFormat;
using Entries = std::map<std::string, ConfigOrigins::Entry>;

constexpr char kIncludeField[] = "include";

std::string Join(absl::string_view prefix, absl::string_view name) {
  return prefix.empty() ? std::string(name) : absl::StrCat(prefix, ".", name);
}

// The `include` field of `message`'s type, or null when the type does not compose.
const FieldDescriptor* IncludeField(const Message& message) {
  const FieldDescriptor* f = message.GetDescriptor()->FindFieldByName(kIncludeField);
  if (f == nullptr || f->is_repeated() || f->cpp_type() != FieldDescriptor::CPPTYPE_STRING) {
    return nullptr;
  }
  return f;
}

// The path one level up: "a.b[2].c" -> "a.b[2]" -> "a.b" -> "a" -> "".
std::string Parent(absl::string_view path) {
  const size_t cut = path.find_last_of(".[");
  return cut == absl::string_view::npos ? "" : std::string(path.substr(0, cut));
}

// Records where every set field of `message` was written, under `prefix`.
void Record(const Message& message, const TextFormat::ParseInfoTree* tree,
            const std::string& prefix, absl::string_view source, Entries* out) {
  std::vector<const FieldDescriptor*> fields;
  message.GetReflection()->ListFields(message, &fields);
  const Reflection* r = message.GetReflection();
  for (const FieldDescriptor* f : fields) {
    if (f->name() == kIncludeField) continue;
    const std::string path = Join(prefix, f->name());
    auto where = [&](int index) {
      if (tree == nullptr) return std::string(source);
      const auto loc = tree->GetLocation(f, index);
      return loc.line < 0 ? std::string(source) : absl::StrCat(source, ":", loc.line + 1);
    };
    const bool is_message = f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
    (*out)[path] = {where(f->is_repeated() ? 0 : -1), f->is_repeated() || !is_message};
    if (!is_message) continue;
    if (f->is_repeated()) {
      for (int i = 0; i < r->FieldSize(message, f); ++i) {
        const std::string element = absl::StrCat(path, "[", i, "]");
        (*out)[element] = {where(i), false};
        Record(r->GetRepeatedMessage(message, f, i),
               tree == nullptr ? nullptr : tree->GetTreeForNested(f, i), element, source, out);
      }
    } else {
      Record(r->GetMessage(message, f), tree == nullptr ? nullptr : tree->GetTreeForNested(f, -1),
             path, source, out);
    }
  }
}

// True when a field strictly between `subtree` and `path` (or `path` itself) was written in
// `local` as a scalar or repeated field, which replaces whatever an include put below it.
bool OverriddenLocally(const Entries& local, const std::string& path, const std::string& subtree) {
  for (std::string p = path; p.size() > subtree.size(); p = Parent(p)) {
    auto it = local.find(p);
    if (it != local.end() && (p == path || it->second.replaces)) return true;
  }
  return false;
}

absl::StatusOr<std::string> FindInclude(const std::string& include, const std::string& base_dir,
                                        absl::string_view where) {
  std::vector<std::string> tried;
  auto exists = [&](const fs::path& p) {
    tried.push_back(p.string());
    std::error_code ec;
    return fs::is_regular_file(p, ec);
  };
  const fs::path inc(include);
  if (inc.is_absolute()) {
    if (exists(inc)) return inc.string();
  } else if (absl::StartsWith(include, "./") || absl::StartsWith(include, "../")) {
    if (exists(fs::path(base_dir) / inc)) return (fs::path(base_dir) / inc).lexically_normal().string();
  } else {
    std::error_code ec;
    fs::path dir = fs::absolute(base_dir.empty() ? "." : base_dir, ec).lexically_normal();
    while (true) {
      if (exists(dir / inc)) return (dir / inc).string();
      if (!dir.has_parent_path() || dir.parent_path() == dir) break;
      dir = dir.parent_path();
    }
    if (const char* ws = std::getenv("BUILD_WORKSPACE_DIRECTORY"); ws != nullptr && *ws) {
      if (exists(fs::path(ws) / inc)) return (fs::path(ws) / inc).string();
    }
    if (exists(fs::current_path(ec) / inc)) return (fs::current_path(ec) / inc).string();
  }
  return absl::NotFoundError(absl::StrCat(where, ": include \"", include,
                                          "\" not found (tried: ", absl::StrJoin(tried, ", "),
                                          ")"));
}

absl::Status ComposeText(absl::string_view text, const std::string& source,
                         const std::string& base_dir, const std::string& prefix, Message* message,
                         Entries* origins, std::vector<std::string>* stack);

absl::Status ComposeFile(const std::string& path, const std::string& prefix, Message* message,
                         Entries* origins, std::vector<std::string>* stack) {
  std::error_code ec;
  const std::string canonical = fs::weakly_canonical(path, ec).string();
  for (const std::string& open : *stack) {
    if (open == canonical) {
      std::vector<std::string> cycle(stack->begin(), stack->end());
      cycle.push_back(canonical);
      return absl::InvalidArgumentError(
          absl::StrCat("circular include: ", absl::StrJoin(cycle, " -> ")));
    }
  }
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (!text.ok()) {
    return absl::Status(text.status().code(),
                        absl::StrCat("cannot read config: ", text.status().message()));
  }
  stack->push_back(canonical);
  absl::Status status = ComposeText(*text, path, fs::path(path).parent_path().string(), prefix,
                                    message, origins, stack);
  stack->pop_back();
  return status;
}

// Resolves the includes of `message` (at `path`) and of every message below it, children first.
// `local` holds the origins of the file being composed and gains those of its includes.
absl::Status ResolveIncludes(Message* message, const std::string& path, const std::string& source,
                             const std::string& base_dir, Entries* local,
                             std::vector<std::string>* stack) {
  const Reflection* r = message->GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(*message, &fields);
  for (const FieldDescriptor* f : fields) {
    if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    const std::string child = Join(path, f->name());
    if (f->is_repeated()) {
      for (int i = 0; i < r->FieldSize(*message, f); ++i) {
        RETURN_IF_ERROR(ResolveIncludes(r->MutableRepeatedMessage(message, f, i),
                                        absl::StrCat(child, "[", i, "]"), source, base_dir, local,
                                        stack));
      }
    } else {
      RETURN_IF_ERROR(
          ResolveIncludes(r->MutableMessage(message, f), child, source, base_dir, local, stack));
    }
  }
  const FieldDescriptor* include_field = IncludeField(*message);
  if (include_field == nullptr) return absl::OkStatus();
  const std::string include = r->GetString(*message, include_field);
  if (include.empty()) return absl::OkStatus();

  std::string where = source;
  if (auto it = local->find(Join(path, kIncludeField)); it != local->end()) where = it->second.where;
  ASSIGN_OR_RETURN(std::string file, FindInclude(include, base_dir, where));
  std::unique_ptr<Message> base(message->New());
  Entries included;
  absl::Status status = ComposeFile(file, path, base.get(), &included, stack);
  if (!status.ok()) {
    return absl::Status(status.code(), absl::StrCat(where, ": in include \"", include, "\": ",
                                                    status.message()));
  }
  MergeOverride(*message, base.get());
  message->CopyFrom(*base);
  r->ClearField(message, include_field);
  for (auto& [key, entry] : included) {
    if (key.size() <= path.size() && !path.empty()) continue;
    if (!OverriddenLocally(*local, key, path)) local->emplace(key, entry);
  }
  return absl::OkStatus();
}

absl::Status ComposeText(absl::string_view text, const std::string& source,
                         const std::string& base_dir, const std::string& prefix, Message* message,
                         Entries* origins, std::vector<std::string>* stack) {
  TextFormat::ParseInfoTree tree;
  RETURN_IF_ERROR(ParseTextProto(text, source, message, &tree));
  Entries local;
  Record(*message, &tree, prefix, source, &local);
  // Locations of nested includes, for their error messages.
  std::function<void(const Message&, const TextFormat::ParseInfoTree*, const std::string&)>
      note_includes = [&](const Message& m, const TextFormat::ParseInfoTree* t,
                          const std::string& p) {
        const Reflection* r = m.GetReflection();
        std::vector<const FieldDescriptor*> fields;
        r->ListFields(m, &fields);
        for (const FieldDescriptor* f : fields) {
          const std::string path = Join(p, f->name());
          if (f->name() == kIncludeField) {
            const auto loc = t == nullptr ? TextFormat::ParseLocation() : t->GetLocation(f, -1);
            local[path] = {absl::StrCat(source, ":", loc.line + 1), true};
          }
          if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
          if (f->is_repeated()) {
            for (int i = 0; i < r->FieldSize(m, f); ++i) {
              note_includes(r->GetRepeatedMessage(m, f, i),
                            t == nullptr ? nullptr : t->GetTreeForNested(f, i),
                            absl::StrCat(path, "[", i, "]"));
            }
          } else {
            note_includes(r->GetMessage(m, f), t == nullptr ? nullptr : t->GetTreeForNested(f, -1),
                          path);
          }
        }
      };
  note_includes(*message, &tree, prefix);
  RETURN_IF_ERROR(ResolveIncludes(message, prefix, source, base_dir, &local, stack));
  for (auto it = local.begin(); it != local.end();) {
    // Include locations served their error messages; they are not fields of the result.
    if (absl::EndsWith(it->first, kIncludeField) &&
        (it->first.size() == sizeof(kIncludeField) - 1 ||
         it->first[it->first.size() - sizeof(kIncludeField)] == '.')) {
      it = local.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [key, entry] : local) (*origins)[key] = entry;
  return absl::OkStatus();
}

}  // namespace

std::string ConfigOrigins::Find(absl::string_view path) const {
  for (std::string p(path); !p.empty(); p = Parent(p)) {
    auto it = entries_.find(p);
    if (it != entries_.end()) return it->second.where;
  }
  return "";
}

absl::Status ConfigOrigins::Annotate(const absl::Status& status,
                                     absl::string_view path_prefix) const {
  if (status.ok()) return status;
  absl::string_view message = status.message();
  size_t end = 0;
  while (end < message.size() &&
         (std::isalnum(static_cast<unsigned char>(message[end])) || message[end] == '_' ||
          message[end] == '.' || message[end] == '[' || message[end] == ']')) {
    ++end;
  }
  if (end == 0 || end >= message.size() || message[end] != ':') return status;
  const std::string where = Find(absl::StrCat(path_prefix, message.substr(0, end)));
  if (where.empty()) return status;
  return absl::Status(status.code(), absl::StrCat(where, ": ", path_prefix, message));
}

void MergeOverride(const Message& overrides, Message* base) {
  const Reflection* r = overrides.GetReflection();
  const Reflection* rb = base->GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r->ListFields(overrides, &fields);
  for (const FieldDescriptor* f : fields) {
    if (f->name() == kIncludeField && IncludeField(overrides) == f) continue;
    if (f->is_repeated()) {
      rb->ClearField(base, f);
      for (int i = 0; i < r->FieldSize(overrides, f); ++i) {
        switch (f->cpp_type()) {
#define ROBUSTNESS_COPY_REPEATED(CPPTYPE, Type)                              \
  case FieldDescriptor::CPPTYPE:                                             \
    rb->Add##Type(base, f, r->GetRepeated##Type(overrides, f, i));           \
    break;
          ROBUSTNESS_COPY_REPEATED(CPPTYPE_INT32, Int32)
          ROBUSTNESS_COPY_REPEATED(CPPTYPE_INT64, Int64)
          ROBUSTNESS_COPY_REPEATED(CPPTYPE_UINT32, UInt32)
          ROBUSTNESS_COPY_REPEATED(CPPTYPE_UINT64, UInt64)
          ROBUSTNESS_COPY_REPEATED(CPPTYPE_FLOAT, Float)
          ROBUSTNESS_COPY_REPEATED(CPPTYPE_DOUBLE, Double)
          ROBUSTNESS_COPY_REPEATED(CPPTYPE_BOOL, Bool)
          ROBUSTNESS_COPY_REPEATED(CPPTYPE_STRING, String)
          ROBUSTNESS_COPY_REPEATED(CPPTYPE_ENUM, Enum)
#undef ROBUSTNESS_COPY_REPEATED
          case FieldDescriptor::CPPTYPE_MESSAGE:
            rb->AddMessage(base, f)->CopyFrom(r->GetRepeatedMessage(overrides, f, i));
            break;
        }
      }
      continue;
    }
    switch (f->cpp_type()) {
#define ROBUSTNESS_COPY_SINGULAR(CPPTYPE, Type)             \
  case FieldDescriptor::CPPTYPE:                            \
    rb->Set##Type(base, f, r->Get##Type(overrides, f));     \
    break;
      ROBUSTNESS_COPY_SINGULAR(CPPTYPE_INT32, Int32)
      ROBUSTNESS_COPY_SINGULAR(CPPTYPE_INT64, Int64)
      ROBUSTNESS_COPY_SINGULAR(CPPTYPE_UINT32, UInt32)
      ROBUSTNESS_COPY_SINGULAR(CPPTYPE_UINT64, UInt64)
      ROBUSTNESS_COPY_SINGULAR(CPPTYPE_FLOAT, Float)
      ROBUSTNESS_COPY_SINGULAR(CPPTYPE_DOUBLE, Double)
      ROBUSTNESS_COPY_SINGULAR(CPPTYPE_BOOL, Bool)
      ROBUSTNESS_COPY_SINGULAR(CPPTYPE_STRING, String)
      ROBUSTNESS_COPY_SINGULAR(CPPTYPE_ENUM, Enum)
#undef ROBUSTNESS_COPY_SINGULAR
      case FieldDescriptor::CPPTYPE_MESSAGE:
        // MutableMessage on another case of a oneof clears the included case first.
        MergeOverride(r->GetMessage(overrides, f), rb->MutableMessage(base, f));
        break;
    }
  }
}

absl::Status ParseComposedConfig(absl::string_view text, absl::string_view source_name,
                                 const std::string& base_dir, Message* message,
                                 ConfigOrigins* origins) {
  ConfigOrigins scratch;
  ConfigOrigins* out = origins != nullptr ? origins : &scratch;
  out->entries().clear();
  std::vector<std::string> stack;
  return ComposeText(text, std::string(source_name), base_dir, "", message, &out->entries(),
                     &stack);
}

absl::Status ReadComposedConfig(const std::string& path, Message* message,
                                ConfigOrigins* origins) {
  ConfigOrigins scratch;
  ConfigOrigins* out = origins != nullptr ? origins : &scratch;
  out->entries().clear();
  std::vector<std::string> stack;
  return ComposeFile(path, "", message, &out->entries(), &stack);
}

absl::Status ReadComposedConfigWithFragment(const std::string& path, const std::string& fragment,
                                            google::protobuf::Message* message,
                                            ConfigOrigins* origins) {
  namespace fs = std::filesystem;
  if (fragment.empty()) return ReadComposedConfig(path, message, origins);
  std::error_code ec;
  const std::string absolute = fs::absolute(path, ec).string();
  if (!fs::exists(absolute)) return absl::NotFoundError(absl::StrCat("cannot read config: ", path));
  return ParseComposedConfig(absl::StrCat("include: \"", absolute, "\"\n", fragment), "--set",
                             fs::path(absolute).parent_path().string(), message, origins);
}

}  // namespace robustness
