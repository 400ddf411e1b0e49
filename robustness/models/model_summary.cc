#include "robustness/models/model_summary.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <glog/logging.h>
#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "robustness/base/status_macros.h"
#include "robustness/base/torch_status.h"
#include "robustness/config/require_fields.h"
#include "robustness/config/text_proto_file.h"
#include "robustness/models/flop_counter.h"
#include "robustness/models/image_classifier.h"
#include "robustness/models/model_factory.h"

namespace robustness {
namespace {

// "torch::nn::Conv2dImpl" -> "Conv2d", "robustness::(anonymous namespace)::BlockImpl" -> "Block".
std::string ShortTypeName(const std::string& name) {
  const size_t colon = name.rfind("::");
  std::string type = colon == std::string::npos ? name : name.substr(colon + 2);
  if (type.size() > 4 && type.compare(type.size() - 4, 4, "Impl") == 0) type.resize(type.size() - 4);
  return type;
}

std::string WithCommas(int64_t value) {
  std::string digits = absl::StrCat(value < 0 ? -value : value);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(i, ",");
  return value < 0 ? "-" + digits : digits;
}

std::string Shape(const std::vector<int64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

std::string DisplayPath(const std::string& path) { return path.empty() ? "(root)" : path; }

std::string JsonString(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += absl::StrFormat("\\u%04x", c);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string Totals(const ModelSummary& s, absl::string_view bullet) {
  const double gflops = static_cast<double>(s.total_flops) / 1e9;
  return absl::StrCat(
      bullet, "Parameters: ", WithCommas(s.total_parameters),
      absl::StrFormat(" (%.2fM)\n", static_cast<double>(s.total_parameters) / 1e6), bullet,
      "Buffers: ", s.buffers.size(), " tensors, ", WithCommas(s.total_buffer_values), " values\n",
      bullet, absl::StrFormat("Forward: %.3f GFLOPs for the batch of %d, %.3f GFLOPs per image",
                              gflops, s.batch(), gflops / static_cast<double>(s.batch())),
      " (FLOPs = 2 x multiply-accumulates of convolutions, linear layers and matrix products)\n");
}

// Rows of cells as left-aligned text columns (numbers right-aligned), two spaces apart.
std::string TextTable(const std::vector<std::string>& header,
                      const std::vector<std::vector<std::string>>& rows,
                      const std::vector<bool>& right_aligned) {
  std::vector<size_t> width(header.size());
  for (size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t c = 0; c < cells.size(); ++c) {
      const std::string pad(width[c] - cells[c].size(), ' ');
      out += right_aligned[c] ? pad + cells[c] : cells[c] + pad;
      if (c + 1 < cells.size()) out += "  ";
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line(header);
  for (const auto& row : rows) out += line(row);
  return out;
}

std::vector<std::vector<std::string>> LayerRows(const ModelSummary& s) {
  std::vector<std::vector<std::string>> rows;
  for (const LayerSummary& l : s.layers) {
    rows.push_back({DisplayPath(l.path), l.type, WithCommas(l.parameters),
                    l.output_shape.empty() ? "-" : Shape(l.output_shape), WithCommas(l.flops)});
  }
  return rows;
}

std::vector<std::vector<std::string>> BufferRows(const ModelSummary& s) {
  std::vector<std::vector<std::string>> rows;
  for (const BufferSummary& b : s.buffers) {
    rows.push_back({b.name, Shape(b.shape), WithCommas(b.numel)});
  }
  return rows;
}

std::string FormatText(const ModelSummary& s) {
  std::string out = absl::StrCat(s.architecture, ", input ", Shape(s.input_shape),
                                 " float32 in [0, 1]\n\n");
  out += TextTable({"module", "type", "params", "output shape", "FLOPs"}, LayerRows(s),
                   {false, false, true, false, true});
  if (!s.buffers.empty()) {
    out += "\n" + TextTable({"buffer", "shape", "values"}, BufferRows(s), {false, false, true});
  }
  return out + "\n" + Totals(s, "");
}

std::string MarkdownTable(const std::vector<std::string>& header,
                          const std::vector<std::vector<std::string>>& rows,
                          const std::vector<bool>& right_aligned) {
  std::string out = absl::StrCat("| ", absl::StrJoin(header, " | "), " |\n|");
  for (bool right : right_aligned) out += right ? " ---: |" : " --- |";
  out += "\n";
  for (const auto& row : rows) out += absl::StrCat("| ", absl::StrJoin(row, " | "), " |\n");
  return out;
}

std::string FormatMarkdown(const ModelSummary& s) {
  std::vector<std::vector<std::string>> rows = LayerRows(s);
  for (auto& row : rows) row[0] = absl::StrCat("`", row[0], "`");
  std::string out = absl::StrCat("**", s.architecture, "**, input `", Shape(s.input_shape),
                                 "` float32 in [0, 1]\n\n");
  out += MarkdownTable({"module", "type", "params", "output shape", "FLOPs"}, rows,
                       {false, false, true, false, true});
  if (!s.buffers.empty()) {
    out += "\n" + MarkdownTable({"buffer", "shape", "values"}, BufferRows(s), {false, false, true});
  }
  return out + "\n" + Totals(s, "* ");
}

std::string FormatJson(const ModelSummary& s) {
  std::vector<std::string> layers;
  for (const LayerSummary& l : s.layers) {
    layers.push_back(absl::StrCat(
        "{\"path\": ", JsonString(l.path), ", \"type\": ", JsonString(l.type),
        ", \"parameters\": ", l.parameters, ", \"output_shape\": ", Shape(l.output_shape),
        ", \"flops\": ", l.flops, "}"));
  }
  std::vector<std::string> buffers;
  for (const BufferSummary& b : s.buffers) {
    buffers.push_back(absl::StrCat("{\"name\": ", JsonString(b.name),
                                   ", \"shape\": ", Shape(b.shape), ", \"numel\": ", b.numel,
                                   "}"));
  }
  return absl::StrCat(
      "{\n  \"architecture\": ", JsonString(s.architecture),
      ",\n  \"input_shape\": ", Shape(s.input_shape), ",\n  \"layers\": [\n    ",
      absl::StrJoin(layers, ",\n    "), "\n  ],\n  \"total_parameters\": ", s.total_parameters,
      ",\n  \"buffers\": [\n    ", absl::StrJoin(buffers, ",\n    "),
      "\n  ],\n  \"total_buffer_values\": ", s.total_buffer_values,
      ",\n  \"total_flops\": ", s.total_flops,
      absl::StrFormat(",\n  \"gflops_per_image\": %.6f\n}\n",
                      static_cast<double>(s.total_flops) / 1e9 / static_cast<double>(s.batch())));
}

}  // namespace

absl::StatusOr<ModelSummary> SummarizeModel(const proto::ModelConfig& config, int64_t batch) {
  if (batch < 1) return absl::InvalidArgumentError(absl::StrCat("batch must be >= 1, got ", batch));
  RETURN_IF_ERROR(ValidateModelConfig(config));
  ModelSummary summary;
  summary.architecture = ArchitectureName(config);
  summary.input_shape = {batch, config.in_channels(), config.image_size(), config.image_size()};
  FlopCount count;
  ImageClassifier model;
  RETURN_IF_ERROR(CallTorch("building and running the model", [&]() -> absl::Status {
    torch::manual_seed(0);
    ASSIGN_OR_RETURN(model, CreateModel(config));
    count = CountForwardFlops(*model, torch::rand(summary.input_shape));
    return absl::OkStatus();
  }));

  int64_t row_parameters = 0, row_flops = 0;
  for (const auto& item : model->named_modules(/*name_prefix=*/"", /*include_self=*/true)) {
    const torch::nn::Module& module = *item.value();
    LayerSummary layer;
    layer.path = item.key();
    layer.type = ShortTypeName(module.name());
    for (const auto& p : module.named_parameters(/*recurse=*/false)) {
      layer.parameters += p.value().numel();
    }
    const ModuleFlops* flops = count.Find(layer.path);
    if (flops != nullptr) {
      layer.flops = flops->flops;
      layer.output_shape = flops->output_shape;
    }
    const bool owns_tensors = !module.named_parameters(/*recurse=*/false).is_empty() ||
                              !module.named_buffers(/*recurse=*/false).is_empty();
    if (owns_tensors || module.children().empty() || flops != nullptr) {
      row_parameters += layer.parameters;
      row_flops += layer.flops;
      summary.layers.push_back(std::move(layer));
    }
  }
  if (const ModuleFlops* other = count.Find(kOtherMatmuls)) {
    summary.layers.push_back({kOtherMatmuls, "matmul", 0, other->output_shape, other->flops});
    row_flops += other->flops;
  }
  for (const auto& b : model->named_buffers(/*recurse=*/true)) {
    summary.buffers.push_back({b.key(), b.value().sizes().vec(), b.value().numel()});
    summary.total_buffer_values += b.value().numel();
  }
  summary.total_parameters = CountParameters(*model);
  summary.total_flops = count.total_flops;
  CHECK_EQ(row_parameters, summary.total_parameters) << "a parameter owner is missing a row";
  CHECK_EQ(row_flops, summary.total_flops) << "counted FLOPs attributed outside the module tree";
  return summary;
}

absl::StatusOr<SummaryFormat> ParseSummaryFormat(absl::string_view name) {
  if (name == "text") return SummaryFormat::kText;
  if (name == "markdown") return SummaryFormat::kMarkdown;
  if (name == "json") return SummaryFormat::kJson;
  return absl::InvalidArgumentError(
      absl::StrCat("--format: expected text, markdown or json, got '", name, "'"));
}

std::string FormatSummary(const ModelSummary& summary, SummaryFormat format) {
  switch (format) {
    case SummaryFormat::kText:
      return FormatText(summary);
    case SummaryFormat::kMarkdown:
      return FormatMarkdown(summary);
    case SummaryFormat::kJson:
      return FormatJson(summary);
  }
  LOG(FATAL) << "unknown SummaryFormat " << static_cast<int>(format);
}

absl::StatusOr<ModelSummary> SummarizeModelConfigFile(const std::string& config_path,
                                                      int64_t image_size, int64_t batch) {
  ASSIGN_OR_RETURN(proto::ModelConfig config,
                   ReadTextProtoFile<proto::ModelConfig>(config_path));
  RETURN_IF_ERROR(RequireAllFieldsSet(config, config_path));
  if (image_size < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("image_size must be >= 0 (0: the config's), got ", image_size));
  }
  if (image_size > 0) config.set_image_size(static_cast<int32_t>(image_size));
  absl::StatusOr<ModelSummary> summary = SummarizeModel(config, batch);
  if (!summary.ok()) {
    return absl::Status(summary.status().code(),
                        absl::StrCat(config_path, ": ", summary.status().message()));
  }
  return summary;
}

}  // namespace robustness
