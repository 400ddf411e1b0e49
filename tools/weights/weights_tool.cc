#include "tools/weights/weights_tool.h"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "robustness/base/status_macros.h"
#include "robustness/base/torch_status.h"
#include "robustness/config/require_fields.h"
#include "robustness/config/text_proto_file.h"
#include "robustness/models/model_factory.h"
#include "robustness/weights/checkpoint_weights.h"
#include "robustness/weights/module_state_dict.h"
#include "robustness/weights/state_dict_io.h"

namespace robustness {
namespace tools {
namespace {

// PyTorch's spelling (torch.float32), which is what a Python user compares against.
std::string DtypeName(torch::ScalarType dtype) {
  switch (dtype) {
    case torch::kFloat32:
      return "float32";
    case torch::kFloat64:
      return "float64";
    case torch::kFloat16:
      return "float16";
    case torch::kBFloat16:
      return "bfloat16";
    case torch::kInt64:
      return "int64";
    case torch::kInt32:
      return "int32";
    case torch::kInt16:
      return "int16";
    case torch::kInt8:
      return "int8";
    case torch::kUInt8:
      return "uint8";
    case torch::kBool:
      return "bool";
    case torch::kComplexFloat:
      return "complex64";
    case torch::kComplexDouble:
      return "complex128";
    default:
      return c10::toString(dtype);
  }
}

std::string Shape(const torch::Tensor& t) {
  return absl::StrCat("[", absl::StrJoin(t.sizes(), ", "), "]");
}

// 11689512 -> "11,689,512".
std::string Thousands(int64_t n) {
  std::string digits = absl::StrCat(n < 0 ? -n : n);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(i, ",");
  return n < 0 ? "-" + digits : digits;
}

std::string Floats(const google::protobuf::RepeatedField<float>& values) {
  return absl::StrCat("[",
                      absl::StrJoin(values, ", ",
                                    [](std::string* out, float v) {
                                      absl::StrAppend(out, absl::StrFormat("%g", v));
                                    }),
                      "]");
}

void PrintList(std::ostream& out, const std::string& title, const std::vector<std::string>& items) {
  if (items.empty()) return;
  out << "  " << items.size() << " " << title << ":\n";
  for (const std::string& item : items) out << "    " << item << "\n";
}

}  // namespace

std::string ResolveUserPath(const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  const char* cwd = std::getenv("BUILD_WORKING_DIRECTORY");
  return cwd != nullptr ? absl::StrCat(cwd, "/", path) : path;
}

absl::StatusOr<ImageClassifier> BuildModelFromConfigFile(const std::string& path,
                                                         proto::ModelConfig* config) {
  ASSIGN_OR_RETURN(proto::ModelConfig parsed, ReadTextProtoFile<proto::ModelConfig>(path));
  RETURN_IF_ERROR(RequireAllFieldsSet(parsed, path));
  absl::StatusOr<ImageClassifier> model = CreateModel(parsed);
  if (!model.ok()) {
    return absl::Status(model.status().code(), absl::StrCat(path, ": ", model.status().message()));
  }
  if (config != nullptr) *config = parsed;
  return model;
}

absl::Status RunInspect(const std::string& weights, const std::string& key, std::ostream& out) {
  ASSIGN_OR_RETURN(StateDictFile file, ReadStateDictFile(weights, key));
  int64_t values = 0, bytes = 0;
  size_t width = 0;
  for (const auto& item : file.tensors) {
    values += item.value().numel();
    bytes += item.value().numel() * static_cast<int64_t>(item.value().element_size());
    width = std::max(width, item.key().size());
  }
  out << "weights file: " << weights << "\n"
      << "content: " << file.Describe() << "\n"
      << file.tensors.size() << " tensors, " << Thousands(values) << " values, "
      << (bytes < 1000000 ? absl::StrFormat("%.1f kB", bytes / 1e3)
                          : absl::StrFormat("%.1f MB", bytes / 1e6))
      << "\n";
  for (const auto& item : file.tensors) {
    out << "  "
        << absl::StrFormat("%-*s  %-8s  %s", width, item.key(),
                           DtypeName(item.value().scalar_type()), Shape(item.value()))
        << "\n";
  }
  return absl::OkStatus();
}

absl::Status RunCheck(const std::string& model_config, const std::string& weights,
                      const std::string& checkpoint, const std::string& key, std::ostream& out) {
  if (weights.empty() == checkpoint.empty()) {
    return absl::InvalidArgumentError("check needs exactly one of --weights and --checkpoint");
  }
  proto::ModelConfig config;
  ASSIGN_OR_RETURN(ImageClassifier model, BuildModelFromConfigFile(model_config, &config));
  StateDictFile file;
  if (!weights.empty()) {
    ASSIGN_OR_RETURN(file, ReadStateDictFile(weights, key));
  } else {
    ASSIGN_OR_RETURN(file.tensors, ReadCheckpointWeights(checkpoint));
  }
  const std::string& source = weights.empty() ? checkpoint : weights;
  out << "model: " << ArchitectureName(config) << ", " << Thousands(CountParameters(*model))
      << " parameters (" << model_config << ")\n"
      << "weights: " << source << ", "
      << (weights.empty() ? "training checkpoint" : file.Describe()) << "\n";
  StateDictMismatch mismatch;
  RETURN_IF_ERROR(CallTorch("cannot compare the weights with the model", [&] {
    mismatch = CompareStateDict(file.tensors, *model);
    return absl::OkStatus();
  }));
  if (mismatch.empty()) {
    const std::vector<std::string> normalization = NormalizationBufferNames(*model);
    const bool has_normalization =
        !normalization.empty() && file.tensors.contains(normalization.front());
    out << "OK: loads strictly (" << file.tensors.size() << " tensors); input normalisation "
        << (has_normalization ? "in the file, equal to the config's"
                              : "from the config (the file has none, as torchvision/timm files)")
        << ": mean " << Floats(config.normalization().mean()) << ", std "
        << Floats(config.normalization().std()) << "\n";
    return absl::OkStatus();
  }
  out << "MISMATCH: " << mismatch.size() << (mismatch.size() == 1 ? " problem\n" : " problems\n");
  PrintList(out, "missing keys (in the model, not in the file)", mismatch.missing);
  PrintList(out, "unexpected keys (in the file, not in the model)", mismatch.unexpected);
  PrintList(out, "wrong-shaped keys", mismatch.wrong_shape);
  PrintList(out,
            "normalisation buffers differing from the config's (model.normalization: set it to "
            "the file's values, which the weights were trained with)",
            mismatch.normalization);
  return absl::InvalidArgumentError(absl::StrCat(
      "'", source, "' does not fit the model of '", model_config, "': ", mismatch.size(),
      mismatch.size() == 1 ? " problem" : " problems", " (listed above)"));
}

absl::Status RunExport(const std::string& model_config, const std::string& checkpoint,
                       const std::string& output, std::ostream& out) {
  proto::ModelConfig config;
  ASSIGN_OR_RETURN(ImageClassifier model, BuildModelFromConfigFile(model_config, &config));
  ASSIGN_OR_RETURN(StateDict weights, ReadCheckpointWeights(checkpoint));
  absl::Status loaded =
      LoadStateDict(weights, *model, absl::StrCat("checkpoint '", checkpoint, "'"));
  if (!loaded.ok()) {
    return absl::Status(loaded.code(),
                        absl::StrCat(loaded.message(), " (the full list: check --model_config=",
                                     model_config, " --checkpoint=", checkpoint, ")"));
  }
  RETURN_IF_ERROR(ExportWeightsFile(*model, output));
  out << "wrote " << output << ": " << ModuleStateDict(*model).size() << " tensors of "
      << ArchitectureName(config) << " from " << checkpoint << "\n"
      << "inputs: images in [0, 1], then (x - mean) / std with mean "
      << Floats(config.normalization().mean()) << ", std " << Floats(config.normalization().std())
      << " (done inside our models; the file has no normalisation, so apply it in Python)\n"
      << "Python: tools/weights/README.md shows the torch.load / load_state_dict lines\n";
  return absl::OkStatus();
}

}  // namespace tools
}  // namespace robustness
