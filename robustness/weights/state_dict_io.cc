#include "robustness/weights/state_dict_io.h"

#include <filesystem>
#include <fstream>
#include <memory>
#include <system_error>
#include <utility>

#include <caffe2/serialize/inline_container.h>
#include <torch/serialize.h>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "robustness/base/atomic_file.h"
#include "robustness/base/status_macros.h"
#include "robustness/base/torch_status.h"
#include "robustness/weights/internal/torch_unpickler.h"

namespace robustness {
namespace {

using internal::DescribeKind;
using internal::PyValue;
using internal::PyValuePtr;

constexpr absl::string_view kZipMagic = "PK\x03\x04";
// The legacy (pre-1.6) torch.save format starts with a pickled magic number:
// PROTO 2, LONG1 of 10 bytes 0x1950a86a20f9469cfc6c.
constexpr absl::string_view kLegacyMagic =
    "\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19";
constexpr absl::string_view kModulePrefix = "module.";
constexpr size_t kMaxListedKeys = 20;

absl::StatusOr<std::string> ReadHead(const std::string& path, size_t n) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::PermissionDeniedError(absl::StrCat("cannot read weights file '", path, "'"));
  }
  std::string head(n, '\0');
  in.read(head.data(), static_cast<std::streamsize>(n));
  head.resize(static_cast<size_t>(in.gcount()));
  return head;
}

std::string HexBytes(absl::string_view bytes) {
  std::vector<std::string> hex;
  for (unsigned char c : bytes.substr(0, 8)) hex.push_back(absl::StrFormat("%02x", c));
  return absl::StrJoin(hex, " ");
}

// The error for a file that does not start like a zip archive.
absl::Status NotZipError(const std::string& path, absl::string_view head) {
  if (absl::StartsWith(head, kLegacyMagic)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "weights file '", path,
        "' uses the legacy (PyTorch < 1.6) torch.save format, which cannot be read here; re-save "
        "it in Python (PyTorch >= 1.6) with torch.save(torch.load('",
        path, "', map_location='cpu'), 'new.pth')"));
  }
  if (!head.empty() && static_cast<unsigned char>(head[0]) == 0x80) {
    return absl::InvalidArgumentError(absl::StrCat(
        "weights file '", path,
        "' is a plain Python pickle, not a torch.save archive; save the state dict with "
        "torch.save(model.state_dict(), path)"));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("weights file '", path,
                   "' is not a PyTorch weights file: it is neither a torch.save zip archive nor a "
                   "pickle (first bytes: ",
                   HexBytes(head), ")"));
}

std::string KeyText(const PyValue& key) {
  if (key.kind == PyValue::Kind::kString) return key.text;
  if (key.kind == PyValue::Kind::kInt) return absl::StrCat(key.integer);
  return "<" + DescribeKind(key) + ">";
}

std::string ListKeys(const PyValue& dict) {
  std::vector<std::string> keys;
  for (const auto& entry : dict.entries) {
    if (keys.size() == kMaxListedKeys) {
      keys.push_back(absl::StrCat("... (", dict.entries.size(), " in all)"));
      break;
    }
    keys.push_back(KeyText(*entry.first));
  }
  return keys.empty() ? "none" : absl::StrJoin(keys, ", ");
}

const PyValue* FindEntry(const PyValue& dict, absl::string_view key) {
  for (const auto& entry : dict.entries) {
    if (entry.first->kind == PyValue::Kind::kString && entry.first->text == key) {
      return entry.second.get();
    }
  }
  return nullptr;
}

// The first entry whose value is not a tensor, or nullptr.
const std::pair<PyValuePtr, PyValuePtr>* FirstNonTensor(const PyValue& dict) {
  for (const auto& entry : dict.entries) {
    if (entry.second->kind != PyValue::Kind::kTensor) return &entry;
  }
  return nullptr;
}

// Picks the state dict inside the unpickled top-level value and converts it.
absl::StatusOr<StateDictFile> ExtractStateDict(const std::string& path, const PyValue& root,
                                               const std::string& wrapper_key) {
  if (root.kind != PyValue::Kind::kDict) {
    return absl::InvalidArgumentError(absl::StrCat("weights file '", path, "' holds ",
                                                   DescribeKind(root), ", not a dict of tensors"));
  }
  StateDictFile file;
  const PyValue* dict = &root;
  if (!wrapper_key.empty()) {
    dict = FindEntry(root, wrapper_key);
    if (dict == nullptr) {
      return absl::NotFoundError(absl::StrCat("weights file '", path, "' has no entry '",
                                              wrapper_key, "'; its top-level keys are ",
                                              ListKeys(root)));
    }
    file.wrapper_key = wrapper_key;
  } else if (const auto* bad = FirstNonTensor(root)) {
    for (const std::string& key : StateDictWrapperKeys()) {
      const PyValue* candidate = FindEntry(root, key);
      if (candidate != nullptr && candidate->kind == PyValue::Kind::kDict) {
        dict = candidate;
        file.wrapper_key = key;
        break;
      }
    }
    if (file.wrapper_key.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "weights file '", path, "' is not a state dict: its entry '", KeyText(*bad->first),
          "' is ", DescribeKind(*bad->second),
          ", not a tensor, and it has none of the wrapper "
          "keys ",
          absl::StrJoin(StateDictWrapperKeys(), ", "), " (top-level keys: ", ListKeys(root), ")"));
    }
  }
  const std::string where =
      file.wrapper_key.empty() ? "" : absl::StrCat(" (under '", file.wrapper_key, "')");
  if (dict->kind != PyValue::Kind::kDict) {
    return absl::InvalidArgumentError(absl::StrCat("weights file '", path, "': the state dict",
                                                   where, " is ", DescribeKind(*dict),
                                                   ", not a dict of tensors"));
  }
  if (!file.wrapper_key.empty()) {
    for (const auto& entry : root.entries) {
      const std::string key = KeyText(*entry.first);
      if (key != file.wrapper_key) file.ignored_keys.push_back(key);
    }
  }
  bool all_prefixed = !dict->entries.empty();
  for (const auto& [key, value] : dict->entries) {
    if (key->kind != PyValue::Kind::kString) {
      return absl::InvalidArgumentError(absl::StrCat("weights file '", path, "': the state dict",
                                                     where, " has a key that is ",
                                                     DescribeKind(*key), ", not a str"));
    }
    if (value->kind != PyValue::Kind::kTensor) {
      return absl::InvalidArgumentError(
          absl::StrCat("weights file '", path, "': entry '", key->text, "' of the state dict",
                       where, " is ", DescribeKind(*value), ", not a tensor"));
    }
    all_prefixed = all_prefixed && absl::StartsWith(key->text, kModulePrefix);
  }
  file.stripped_module_prefix = all_prefixed;
  for (const auto& [key, value] : dict->entries) {
    std::string name = all_prefixed ? key->text.substr(kModulePrefix.size()) : key->text;
    // Python dicts cannot repeat a key; a pickle can, and then the last value wins, as in Python.
    if (torch::Tensor* existing = file.tensors.find(name)) {
      *existing = value->tensor;
    } else {
      file.tensors.insert(std::move(name), value->tensor);
    }
  }
  return file;
}

absl::Status WithPath(const std::string& path, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat("weights file '", path, "': ", status.message()));
}

}  // namespace

const std::vector<std::string>& StateDictWrapperKeys() {
  static const auto* const kKeys =
      new std::vector<std::string>{"state_dict", "model", "model_ema", "state_dict_ema"};
  return *kKeys;
}

std::string StateDictFile::Describe() const {
  std::string text = wrapper_key.empty() ? std::string("bare state dict")
                                         : absl::StrCat("state dict under '", wrapper_key, "'");
  if (!ignored_keys.empty()) {
    absl::StrAppend(&text, " (ignored: ", absl::StrJoin(ignored_keys, ", "), ")");
  }
  if (stripped_module_prefix) absl::StrAppend(&text, "; 'module.' prefix stripped");
  return text;
}

absl::StatusOr<StateDictFile> ReadStateDictFile(const std::string& path,
                                                const std::string& wrapper_key) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    return absl::NotFoundError(absl::StrCat("no weights file at '", path, "'"));
  }
  if (!std::filesystem::is_regular_file(path, error)) {
    return absl::InvalidArgumentError(absl::StrCat("weights path '", path, "' is not a file"));
  }
  ASSIGN_OR_RETURN(const std::string head, ReadHead(path, kLegacyMagic.size()));
  if (head.empty()) {
    return absl::DataLossError(absl::StrCat("weights file '", path, "' is empty"));
  }
  if (!absl::StartsWith(head, kZipMagic)) return NotZipError(path, head);

  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;
  std::string pickle;
  absl::Status status = CallTorch(
      absl::StrCat("weights file '", path, "' is truncated or damaged"),
      [&] {
        reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path);
        // Python's torch.save writes data.pkl, data/<key>, version (and byteorder) only;
        // TorchScript and LibTorch archives also carry constants.pkl.
        if (reader->hasRecord("constants.pkl")) {
          return absl::InvalidArgumentError(absl::StrCat(
              "weights file '", path,
              "' is a TorchScript / LibTorch archive (torch.jit.save, torch::save, or a training "
              "checkpoint of this project: export those with tools/weights), not a torch.save "
              "state dict"));
        }
        if (!reader->hasRecord("data.pkl")) {
          return absl::InvalidArgumentError(
              absl::StrCat("weights file '", path,
                           "' is a zip archive without data.pkl, not a torch.save file"));
        }
        if (reader->hasRecord("byteorder")) {
          auto [data, size] = reader->getRecord("byteorder");
          const std::string order(static_cast<const char*>(data.get()), size);
          if (order != "little") {
            return absl::InvalidArgumentError(
                absl::StrCat("weights file '", path, "' stores tensors in '", order,
                             "' byte order; only little-endian files can be read"));
          }
        }
        auto [data, size] = reader->getRecord("data.pkl");
        pickle.assign(static_cast<const char*>(data.get()), size);
        return absl::OkStatus();
      },
      absl::StatusCode::kDataLoss);
  if (!status.ok()) return status;

  internal::StorageLoader load_storage = [&](const std::string& key, torch::ScalarType dtype,
                                             int64_t numel) -> absl::StatusOr<torch::Tensor> {
    const std::string record = "data/" + key;
    torch::Tensor storage;
    RETURN_IF_ERROR(CallTorch(
        absl::StrCat("storage record '", record, "' is unreadable"),
        [&] {
          if (!reader->hasRecord(record)) {
            return absl::DataLossError(absl::StrCat("storage record '", record, "' is missing"));
          }
          auto [data, size] = reader->getRecord(record);
          const size_t expected = static_cast<size_t>(numel) * c10::elementSize(dtype);
          if (size != expected) {
            return absl::DataLossError(absl::StrCat("storage record '", record, "' has ", size,
                                                    " bytes, expected ", expected));
          }
          if (numel == 0) {
            storage = torch::empty({0}, torch::TensorOptions().dtype(dtype));
            return absl::OkStatus();
          }
          // The tensor takes ownership of the record's buffer: no copy.
          auto owner = std::make_shared<at::DataPtr>(std::move(data));
          storage = torch::from_blob(
              owner->get(), {numel}, [owner](void*) {}, torch::TensorOptions().dtype(dtype));
          return absl::OkStatus();
        },
        absl::StatusCode::kDataLoss));
    return storage;
  };
  absl::StatusOr<PyValuePtr> root = internal::Unpickle(pickle, load_storage);
  if (!root.ok()) return WithPath(path, root.status());
  return ExtractStateDict(path, **root, wrapper_key);
}

absl::Status WriteStateDictFile(const std::string& path, const StateDict& state_dict) {
  std::vector<char> bytes;
  RETURN_IF_ERROR(CallTorch(absl::StrCat("cannot serialise the state dict for '", path, "'"), [&] {
    c10::Dict<std::string, torch::Tensor> dict;
    for (const auto& item : state_dict) {
      if (!item.value().defined()) {
        return absl::InvalidArgumentError(
            absl::StrCat("cannot write '", path, "': tensor '", item.key(), "' is undefined"));
      }
      // A copy with its own compact storage: torch::pickle_save writes whole storages.
      dict.insert(item.key(), item.value().detach().to(torch::kCPU).contiguous().clone());
    }
    bytes = torch::pickle_save(c10::IValue(dict));
    return absl::OkStatus();
  }));
  return WriteFileAtomically(path, absl::string_view(bytes.data(), bytes.size()));
}

}  // namespace robustness
