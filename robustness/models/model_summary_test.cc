#include "robustness/models/model_summary.h"

#include <cstdint>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "robustness/base/atomic_file.h"
#include "robustness/base/status_matchers.h"
#include "robustness/config/parse_text_proto.h"
#include "robustness/models/flop_counter.h"
#include "robustness/models/model_factory.h"

namespace robustness {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// The two Fashion-MNIST models of experiments/table1_vanilla_robustness (28 px, 1 channel).
constexpr char kResNet[] = R"pb(
  num_classes: 10 in_channels: 1 image_size: 28
  normalization { mean: 0.286 std: 0.353 }
  resnet { block: BASIC stage_depths: [ 2, 2, 2, 2 ] base_width: 16 stem: SMALL activation: RELU
           batch_norm {} }
)pb";

constexpr char kDeiT[] = R"pb(
  num_classes: 10 in_channels: 1 image_size: 28
  normalization { mean: 0.286 std: 0.353 }
  deit { patch_size: 7 embed_dim: 96 depth: 6 num_heads: 3 mlp_ratio: 4
         init: TIMM drop_path_rate: 0 distillation_token: false }
)pb";

const LayerSummary* Row(const ModelSummary& s, const std::string& path) {
  for (const LayerSummary& l : s.layers) {
    if (l.path == path) return &l;
  }
  return nullptr;
}

TEST(SummarizeModel, ResNetRowsAddUpToTheTotals) {
  const auto config = ParseTextProtoOrDie<proto::ModelConfig>(kResNet);
  absl::StatusOr<ModelSummary> s = SummarizeModel(config, /*batch=*/2);
  ASSERT_THAT(s, IsOk());
  EXPECT_EQ(s->input_shape, std::vector<int64_t>({2, 1, 28, 28}));
  EXPECT_EQ(s->total_parameters, CountParameters(**CreateModel(config)));
  EXPECT_EQ(s->total_parameters, 701178);
  int64_t parameters = 0, flops = 0;
  for (const LayerSummary& l : s->layers) {
    parameters += l.parameters;
    flops += l.flops;
  }
  EXPECT_EQ(parameters, s->total_parameters);
  EXPECT_EQ(flops, s->total_flops);
  const LayerSummary* conv1 = Row(*s, "conv1");
  ASSERT_NE(conv1, nullptr);
  EXPECT_EQ(conv1->type, "Conv2d");
  EXPECT_EQ(conv1->parameters, 16 * 3 * 3);
  EXPECT_EQ(conv1->output_shape, std::vector<int64_t>({2, 16, 28, 28}));
  EXPECT_EQ(conv1->flops, 2 * int64_t{2 * 16 * 28 * 28} * 9);
  EXPECT_EQ(Row(*s, "bn1")->type, "BatchNorm2d");
  EXPECT_EQ(Row(*s, "bn1")->flops, 0);  // Norms are not counted.
  EXPECT_EQ(Row(*s, "layer1"), nullptr);  // Containers without own tensors get no row.
  EXPECT_EQ(Row(*s, kOtherMatmuls), nullptr);
}

TEST(SummarizeModel, FlopsAreTheCountersAndScaleWithTheBatch) {
  const auto config = ParseTextProtoOrDie<proto::ModelConfig>(kResNet);
  absl::StatusOr<ModelSummary> one = SummarizeModel(config, 1);
  absl::StatusOr<ModelSummary> four = SummarizeModel(config, 4);
  ASSERT_THAT(one, IsOk());
  ASSERT_THAT(four, IsOk());
  auto model = CreateModel(config);
  ASSERT_THAT(model, IsOk());
  EXPECT_EQ(one->total_flops, CountForwardFlops(**model, torch::rand({1, 1, 28, 28})).total_flops);
  EXPECT_EQ(four->total_flops, 4 * one->total_flops);
}

TEST(SummarizeModel, DeiTHasRootTokensAndAnAttentionRow) {
  absl::StatusOr<ModelSummary> s =
      SummarizeModel(ParseTextProtoOrDie<proto::ModelConfig>(kDeiT), 1);
  ASSERT_THAT(s, IsOk());
  EXPECT_EQ(s->architecture, "DeiT[p7 d96 x6 h3]");
  const LayerSummary* root = Row(*s, "");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->type, "DeiT");
  EXPECT_EQ(root->parameters, 96 + 17 * 96);  // cls_token and pos_embed.
  ASSERT_EQ(s->layers.back().path, kOtherMatmuls);
  // q k^T and attn v: 2 x 17^2 x 96 MACs per block, 6 blocks.
  EXPECT_EQ(s->layers.back().flops, 2 * 6 * 2 * 17 * 17 * 96);
  EXPECT_EQ(Row(*s, "blocks.0.attn.qkv")->output_shape, std::vector<int64_t>({1, 17, 288}));
  EXPECT_EQ(Row(*s, "blocks.0.norm1")->type, "LayerNorm");
  EXPECT_EQ(Row(*s, "blocks.0"), nullptr);
}

TEST(SummarizeModel, ListsTheBuffers) {
  absl::StatusOr<ModelSummary> s =
      SummarizeModel(ParseTextProtoOrDie<proto::ModelConfig>(kResNet), 1);
  ASSERT_THAT(s, IsOk());
  int64_t values = 0;
  bool has_running_mean = false;
  for (const BufferSummary& b : s->buffers) {
    values += b.numel;
    if (b.name == "bn1.running_mean") has_running_mean = b.shape == std::vector<int64_t>({16});
  }
  EXPECT_TRUE(has_running_mean);
  EXPECT_EQ(values, s->total_buffer_values);
  EXPECT_EQ(Row(*s, "normalize")->parameters, 0);  // A row for its mean / std buffers.
}

TEST(FormatSummary, TextMarkdownAndJsonCarryTheTotals) {
  absl::StatusOr<ModelSummary> s =
      SummarizeModel(ParseTextProtoOrDie<proto::ModelConfig>(kDeiT), 1);
  ASSERT_THAT(s, IsOk());
  const std::string text = FormatSummary(*s, SummaryFormat::kText);
  EXPECT_THAT(text, HasSubstr("Parameters: 678,730 (0.68M)"));
  EXPECT_THAT(text, HasSubstr("blocks.5.mlp.fc2"));
  EXPECT_THAT(text, HasSubstr("[1, 17, 96]"));
  const std::string markdown = FormatSummary(*s, SummaryFormat::kMarkdown);
  EXPECT_THAT(markdown, HasSubstr("| `patch_embed.proj` | Conv2d | 4,800 | [1, 96, 4, 4] |"));
  EXPECT_THAT(markdown, HasSubstr("* Parameters: 678,730"));

  google::protobuf::Struct json;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(FormatSummary(*s, SummaryFormat::kJson),
                                                          &json)
                  .ok());
  const auto& fields = json.fields();
  EXPECT_EQ(fields.at("total_parameters").number_value(), s->total_parameters);
  EXPECT_EQ(fields.at("total_flops").number_value(), static_cast<double>(s->total_flops));
  EXPECT_EQ(fields.at("layers").list_value().values_size(), static_cast<int>(s->layers.size()));
  EXPECT_EQ(fields.at("buffers").list_value().values_size(), static_cast<int>(s->buffers.size()));
}

TEST(ParseSummaryFormat, AcceptsTheThreeNames) {
  EXPECT_THAT(ParseSummaryFormat("markdown"), IsOk());
  EXPECT_EQ(*ParseSummaryFormat("json"), SummaryFormat::kJson);
  EXPECT_THAT(ParseSummaryFormat("xml"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("got 'xml'")));
}

TEST(SummarizeModel, RejectsABadBatchOrConfig) {
  const auto config = ParseTextProtoOrDie<proto::ModelConfig>(kDeiT);
  EXPECT_THAT(SummarizeModel(config, 0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("batch must be >= 1")));
  proto::ModelConfig bad = config;
  bad.mutable_deit()->set_num_heads(5);
  EXPECT_THAT(SummarizeModel(bad, 1),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("model.deit.num_heads")));
}

class SummarizeModelConfigFileTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = absl::StrCat(::testing::TempDir(), "/", name);
    EXPECT_THAT(WriteFileAtomically(path, text), IsOk());
    return path;
  }
};

TEST_F(SummarizeModelConfigFileTest, ImageSizeOverridesTheConfig) {
  const std::string path = Write("resnet.pbtxt", kResNet);
  absl::StatusOr<ModelSummary> s = SummarizeModelConfigFile(path, /*image_size=*/32, 1);
  ASSERT_THAT(s, IsOk());
  EXPECT_EQ(s->input_shape, std::vector<int64_t>({1, 1, 32, 32}));
  // A DeiT's patch size must divide the new size.
  EXPECT_THAT(SummarizeModelConfigFile(Write("deit.pbtxt", kDeiT), 30, 1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("deit.pbtxt: model.deit.patch_size: image_size 30")));
}

TEST_F(SummarizeModelConfigFileTest, NamesTheFileAndTheProblem) {
  EXPECT_THAT(SummarizeModelConfigFile("/nonexistent/model.pbtxt", 0, 1),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/model.pbtxt")));
  EXPECT_THAT(SummarizeModelConfigFile(Write("typo.pbtxt", "num_clases: 10"), 0, 1),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("typo.pbtxt:1:")));
  EXPECT_THAT(
      SummarizeModelConfigFile(Write("partial.pbtxt", "num_classes: 10 in_channels: 1"), 0, 1),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("partial.pbtxt: missing required fields"),
                     HasSubstr("image_size"), HasSubstr("normalization"))));
  EXPECT_THAT(SummarizeModelConfigFile(Write("resnet.pbtxt", kResNet), -1, 1),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("image_size must be >= 0")));
}

}  // namespace
}  // namespace robustness
