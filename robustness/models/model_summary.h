// Model summaries: the layer table, parameter and buffer counts and forward FLOPs of a zoo model
// built from a proto::ModelConfig (PAPER.md 3.12), for tools/model_summary and the READMEs.
//
// FLOPs follow flop_counter.h: 2 x MACs of convolutions, linear layers and matrix products
// (attention q k^T and attn v included, in the row "other (attention matmuls)"); elementwise
// ops, norms, softmax and pooling are not counted. They are measured by running one eval-mode
// forward pass on seeded uniform images, not computed from formulas.
//
// Example:
//   ASSIGN_OR_RETURN(ModelSummary s, SummarizeModel(config, /*batch=*/1));
//   std::cout << FormatSummary(s, SummaryFormat::kText);
//   // ... "Parameters: 25,557,032" ... "Forward: 8.178 GFLOPs per image" for ResNet-50.
#ifndef ROBUSTNESS_MODELS_MODEL_SUMMARY_H_
#define ROBUSTNESS_MODELS_MODEL_SUMMARY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "robustness/proto/model.pb.h"

namespace robustness {

// One row of the layer table: a module that directly owns parameters or buffers, has no
// submodules, or ran counted ops; or the kOtherMatmuls bucket (flop_counter.h), always last
// when present.
struct LayerSummary {
  std::string path;        // named_modules() path: "layer1.0.conv1"; "" is the root module.
  std::string type;        // Class name without namespace and "Impl": "Conv2d", "DeiT", "Block".
  int64_t parameters = 0;  // Scalars of the parameters it registers itself (not recursive).
  std::vector<int64_t> output_shape;  // Of its first counted op; empty when it ran none.
  int64_t flops = 0;                  // Forward FLOPs for the whole batch.
};

struct BufferSummary {
  std::string name;  // "bn1.running_mean", "normalize.mean".
  std::vector<int64_t> shape;
  int64_t numel = 0;
};

struct ModelSummary {
  std::string architecture;  // ArchitectureName(config), e.g. "DeiT[p16 d384 x12 h6]".
  std::vector<int64_t> input_shape;  // [batch, in_channels, image_size, image_size].
  std::vector<LayerSummary> layers;  // named_modules() order, then the attention bucket.
  int64_t total_parameters = 0;      // Equals CountParameters (model_factory.h).
  std::vector<BufferSummary> buffers;
  int64_t total_buffer_values = 0;
  int64_t total_flops = 0;  // Forward FLOPs for the whole batch; the layer rows sum to it.

  int64_t batch() const { return input_shape.empty() ? 0 : input_shape[0]; }
};

// Builds the model of `config` (validated first: InvalidArgument naming the field, as
// ValidateModelConfig) on the CPU after torch::manual_seed(0) (this reseeds LibTorch's default
// CPU generator), and measures one eval-mode forward pass on `batch` uniform images of
// config.image_size() pixels. batch >= 1, else InvalidArgument. Allocates the whole model: about
// 4 bytes per parameter plus the activations of one forward pass.
absl::StatusOr<ModelSummary> SummarizeModel(const proto::ModelConfig& config, int64_t batch);

enum class SummaryFormat { kText, kMarkdown, kJson };

// "text" | "markdown" | "json"; InvalidArgument naming the value otherwise.
absl::StatusOr<SummaryFormat> ParseSummaryFormat(absl::string_view name);

// kText: aligned columns for a terminal; kMarkdown: a GitHub table plus totals; kJson: one
// object {"architecture", "input_shape", "layers": [{"path", "type", "parameters",
// "output_shape", "flops"}], "total_parameters", "buffers": [{"name", "shape", "numel"}],
// "total_buffer_values", "total_flops", "gflops_per_image"}. Every format ends with a newline.
std::string FormatSummary(const ModelSummary& summary, SummaryFormat format);

// The tool's whole path: strict loading of the ModelConfig text proto at `config_path`
// (text_proto_file.h: path:line:col on syntax errors or unknown fields), every field required
// (require_fields.h), `image_size` > 0 overriding the config's (0 keeps it; for DeiTs this also
// resizes the position embedding, hence the parameter count), then SummarizeModel.
absl::StatusOr<ModelSummary> SummarizeModelConfigFile(const std::string& config_path,
                                                      int64_t image_size, int64_t batch);

}  // namespace robustness

#endif  // ROBUSTNESS_MODELS_MODEL_SUMMARY_H_
