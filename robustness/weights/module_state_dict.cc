#include "robustness/weights/module_state_dict.h"

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "robustness/base/status_macros.h"
#include "robustness/base/torch_status.h"
#include "robustness/models/normalize.h"

namespace robustness {
namespace {

constexpr absl::string_view kBatchesTracked = "num_batches_tracked";

std::string Join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : absl::StrCat(prefix, ".", name);
}

std::string ShapeText(const torch::Tensor& t) {
  return absl::StrCat("[", absl::StrJoin(t.sizes(), ", "), "]");
}

std::string ValuesText(const torch::Tensor& t) {
  torch::Tensor flat = t.detach().to(torch::kCPU, torch::kFloat64).flatten();
  std::vector<double> values(flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel());
  // %g: float32 statistics print as written in the config (0.485, not 0.48500001430511475).
  return absl::StrCat("[",
                      absl::StrJoin(values, ", ",
                                    [](std::string* out, double v) {
                                      absl::StrAppend(out, absl::StrFormat("%g", v));
                                    }),
                      "]");
}

bool IsBatchesTracked(const std::string& name) {
  return name == kBatchesTracked || absl::EndsWith(name, absl::StrCat(".", kBatchesTracked));
}

// "2 missing keys (in the model, not in the file): a, b"; "" when `names` is empty.
std::string Sentence(const std::vector<std::string>& names, absl::string_view singular,
                     absl::string_view plural, size_t max) {
  if (names.empty()) return "";
  std::vector<std::string> shown(names.begin(),
                                 names.begin() + static_cast<long>(std::min(max, names.size())));
  if (names.size() > max) shown.push_back(absl::StrCat("... and ", names.size() - max, " more"));
  return absl::StrCat(names.size(), " ", names.size() == 1 ? singular : plural, ": ",
                      absl::StrJoin(shown, ", "));
}

}  // namespace

StateDict ModuleStateDict(const torch::nn::Module& module, bool include_normalization) {
  StateDict state_dict;
  auto add_own = [&](const std::string& prefix, const torch::nn::Module& m) {
    const bool skip_buffers = !include_normalization && m.as<NormalizeImpl>() != nullptr;
    for (const auto& p : m.named_parameters(/*recurse=*/false)) {
      state_dict.insert(Join(prefix, p.key()), p.value());
    }
    if (skip_buffers) return;
    for (const auto& b : m.named_buffers(/*recurse=*/false)) {
      state_dict.insert(Join(prefix, b.key()), b.value());
    }
  };
  add_own("", module);
  // named_modules walks depth first in registration order: PyTorch's state_dict() order.
  for (const auto& child : module.named_modules(/*name_prefix=*/"", /*include_self=*/false)) {
    add_own(child.key(), *child.value());
  }
  return state_dict;
}

std::vector<std::string> NormalizationBufferNames(const torch::nn::Module& module) {
  std::vector<std::string> names;
  for (const auto& child : module.named_modules("", /*include_self=*/false)) {
    if (child.value()->as<NormalizeImpl>() == nullptr) continue;
    for (const auto& b : child.value()->named_buffers(/*recurse=*/false)) {
      names.push_back(Join(child.key(), b.key()));
    }
  }
  return names;
}

bool StateDictMismatch::empty() const { return size() == 0; }

size_t StateDictMismatch::size() const {
  return missing.size() + unexpected.size() + wrong_shape.size() + normalization.size();
}

std::string StateDictMismatch::ToString(size_t max_per_kind, absl::string_view separator) const {
  std::vector<std::string> parts;
  for (std::string part :
       {Sentence(missing, "missing key (in the model, not in the file)",
                 "missing keys (in the model, not in the file)", max_per_kind),
        Sentence(unexpected, "unexpected key (in the file, not in the model)",
                 "unexpected keys (in the file, not in the model)", max_per_kind),
        Sentence(wrong_shape, "wrong-shaped key", "wrong-shaped keys", max_per_kind),
        Sentence(normalization,
                 "normalisation buffer differs from the model config's (model.normalization; the "
                 "weights were made for inputs normalised with the file's values, so set the "
                 "config's normalization to them)",
                 "normalisation buffers differ from the model config's (model.normalization; the "
                 "weights were made for inputs normalised with the file's values, so set the "
                 "config's normalization to them)",
                 max_per_kind)}) {
    if (!part.empty()) parts.push_back(std::move(part));
  }
  return absl::StrJoin(parts, separator);
}

StateDictMismatch CompareStateDict(const StateDict& state_dict, const torch::nn::Module& module) {
  StateDictMismatch mismatch;
  const StateDict model = ModuleStateDict(module, /*include_normalization=*/true);
  const std::vector<std::string> normalization_names = NormalizationBufferNames(module);
  const std::set<std::string> normalization(normalization_names.begin(), normalization_names.end());
  bool file_tracks_batches = false;
  for (const auto& item : state_dict) file_tracks_batches |= IsBatchesTracked(item.key());

  for (const auto& item : model) {
    const std::string& name = item.key();
    const bool is_normalization = normalization.count(name) > 0;
    const torch::Tensor* file = state_dict.find(name);
    if (file == nullptr) {
      if (is_normalization || (!file_tracks_batches && IsBatchesTracked(name))) continue;
      mismatch.missing.push_back(name);
      continue;
    }
    if (file->sizes() != item.value().sizes()) {
      mismatch.wrong_shape.push_back(
          absl::StrCat(name, ": file ", ShapeText(*file), ", model ", ShapeText(item.value())));
    } else if (is_normalization &&
               !torch::allclose(file->detach().to(torch::kCPU, torch::kFloat64),
                                item.value().detach().to(torch::kCPU, torch::kFloat64),
                                /*rtol=*/1e-6, /*atol=*/1e-7)) {
      mismatch.normalization.push_back(
          absl::StrCat(name, ": file ", ValuesText(*file), ", model ", ValuesText(item.value())));
    }
  }
  for (const auto& item : state_dict) {
    if (!model.contains(item.key())) mismatch.unexpected.push_back(item.key());
  }
  return mismatch;
}

absl::Status LoadStateDict(const StateDict& state_dict, torch::nn::Module& module,
                           absl::string_view source) {
  StateDictMismatch mismatch;
  RETURN_IF_ERROR(CallTorch(absl::StrCat("cannot compare ", source, " with the model"), [&] {
    mismatch = CompareStateDict(state_dict, module);
    return absl::OkStatus();
  }));
  if (!mismatch.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, " does not fit the model (", mismatch.size(),
                     mismatch.size() == 1 ? " problem): " : " problems): ", mismatch.ToString()));
  }
  return CallTorch(absl::StrCat("cannot copy ", source, " into the model"), [&] {
    torch::NoGradGuard no_grad;
    for (auto& item : ModuleStateDict(module, /*include_normalization=*/true)) {
      if (const torch::Tensor* file = state_dict.find(item.key())) item.value().copy_(*file);
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<StateDictFile> LoadWeightsFile(const std::string& path, torch::nn::Module& module,
                                              const std::string& wrapper_key) {
  ASSIGN_OR_RETURN(StateDictFile file, ReadStateDictFile(path, wrapper_key));
  RETURN_IF_ERROR(LoadStateDict(file.tensors, module, absl::StrCat("weights file '", path, "'")));
  return file;
}

absl::Status ExportWeightsFile(const torch::nn::Module& module, const std::string& path) {
  return WriteStateDictFile(path, ModuleStateDict(module));
}

}  // namespace robustness
