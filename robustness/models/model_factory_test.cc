#include "robustness/models/model_factory.h"

#include <functional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/nn/modules/linear.h>
#include <torch/utils.h>

#include "robustness/base/status_matchers.h"
#include "robustness/config/parse_text_proto.h"

namespace robustness {
namespace {

using ::testing::HasSubstr;

constexpr char kResNet[] = R"pb(
  num_classes: 10
  in_channels: 1
  image_size: 28
  normalization { mean: 0.5 std: 0.5 }
  resnet {
    block: BASIC
    stage_depths: [ 2, 2, 2, 2 ]
    base_width: 16
    stem: SMALL
    activation: RELU
  }
)pb";

constexpr char kDeiT[] = R"pb(
  num_classes: 10
  in_channels: 1
  image_size: 28
  normalization { mean: 0.5 std: 0.5 }
  deit { patch_size: 7 embed_dim: 96 depth: 6 num_heads: 3 mlp_ratio: 4 }
)pb";

proto::ModelConfig Config(const std::string& base, const std::string& edit = "") {
  proto::ModelConfig config = ParseTextProtoOrDie<proto::ModelConfig>(base);
  config.MergeFrom(ParseTextProtoOrDie<proto::ModelConfig>(edit));  // Scalars override.
  return config;
}

TEST(ValidateModelConfig, AcceptsValidConfigs) {
  EXPECT_THAT(ValidateModelConfig(Config(kResNet)), IsOk());
  EXPECT_THAT(ValidateModelConfig(Config(kDeiT)), IsOk());
}

// One invalid config per row: which base, how it is broken, and what the error must name.
struct InvalidCase {
  const char* base;
  std::string name;
  std::function<void(proto::ModelConfig&)> edit;
  std::string expected;
};

class ValidateModelConfigError : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(ValidateModelConfigError, NamesTheField) {
  proto::ModelConfig config = Config(GetParam().base);
  GetParam().edit(config);
  EXPECT_THAT(ValidateModelConfig(config),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(GetParam().expected)));
  EXPECT_THAT(CreateModel(config),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(GetParam().expected)));
}

using C = proto::ModelConfig;
INSTANTIATE_TEST_SUITE_P(
    AllFields, ValidateModelConfigError,
    ::testing::ValuesIn(std::vector<InvalidCase>{
        {kResNet, "NumClassesUnset", [](C& c) { c.clear_num_classes(); },
         "model.num_classes: is not set"},
        {kResNet, "NumClassesZero", [](C& c) { c.set_num_classes(0); },
         "model.num_classes: must be >= 1, got 0"},
        {kResNet, "InChannels", [](C& c) { c.set_in_channels(-1); }, "model.in_channels"},
        {kResNet, "ImageSize", [](C& c) { c.set_image_size(0); }, "model.image_size"},
        {kResNet, "NormalizationUnset", [](C& c) { c.clear_normalization(); },
         "model.normalization: is not set"},
        {kResNet, "MeanCount", [](C& c) { c.mutable_normalization()->add_mean(0.1f); },
         "model.normalization.mean: has 2 values, in_channels is 1"},
        {kResNet, "StdCount",
         [](C& c) {
           c.set_in_channels(2);
           c.mutable_normalization()->add_mean(0.1f);
         },
         "model.normalization.std: has 1 values"},
        {kResNet, "StdZero", [](C& c) { c.mutable_normalization()->set_std(0, 0.0f); },
         "model.normalization.std[0]: must be finite and > 0, got 0"},
        {kResNet, "Block", [](C& c) { c.mutable_resnet()->clear_block(); }, "model.resnet.block"},
        {kResNet, "DepthsEmpty", [](C& c) { c.mutable_resnet()->clear_stage_depths(); },
         "model.resnet.stage_depths: needs at least one stage"},
        {kResNet, "DepthZero", [](C& c) { c.mutable_resnet()->set_stage_depths(2, 0); },
         "model.resnet.stage_depths[2]: must be >= 1, got 0"},
        {kResNet, "BaseWidth", [](C& c) { c.mutable_resnet()->set_base_width(0); },
         "model.resnet.base_width"},
        {kResNet, "Stem", [](C& c) { c.mutable_resnet()->clear_stem(); }, "model.resnet.stem"},
        {kResNet, "Activation",
         [](C& c) { c.mutable_resnet()->set_activation(proto::ACTIVATION_UNSPECIFIED); },
         "model.resnet.activation"},
        {kResNet, "NoArchitecture", [](C& c) { c.clear_resnet(); }, "model.architecture"},
        {kDeiT, "PatchDividesImage", [](C& c) { c.mutable_deit()->set_patch_size(5); },
         "model.deit.patch_size: image_size 28 is not divisible by patch_size 5"},
        {kDeiT, "PatchUnset", [](C& c) { c.mutable_deit()->clear_patch_size(); },
         "model.deit.patch_size: is not set"},
        {kDeiT, "EmbedDim", [](C& c) { c.mutable_deit()->set_embed_dim(0); },
         "model.deit.embed_dim"},
        {kDeiT, "Depth", [](C& c) { c.mutable_deit()->set_depth(0); }, "model.deit.depth"},
        {kDeiT, "HeadsZero", [](C& c) { c.mutable_deit()->set_num_heads(0); },
         "model.deit.num_heads: must be >= 1"},
        {kDeiT, "HeadsDivideDim", [](C& c) { c.mutable_deit()->set_num_heads(5); },
         "model.deit.num_heads: embed_dim 96 is not divisible by num_heads 5"},
        {kDeiT, "MlpRatioZero", [](C& c) { c.mutable_deit()->set_mlp_ratio(0); },
         "model.deit.mlp_ratio: must be finite and > 0, got 0"},
        {kDeiT, "MlpRatioTiny", [](C& c) { c.mutable_deit()->set_mlp_ratio(0.001); },
         "model.deit.mlp_ratio: embed_dim 96 * mlp_ratio 0.001 gives an empty MLP"},
    }),
    [](const ::testing::TestParamInfo<InvalidCase>& info) { return info.param.name; });

TEST(CreateModel, BuildsTheConfiguredResNet) {
  torch::manual_seed(0);
  absl::StatusOr<ImageClassifier> model = CreateModel(Config(kResNet));
  ASSERT_THAT(model, IsOk());
  EXPECT_EQ((*model)->forward(torch::rand({2, 1, 28, 28})).sizes(), torch::IntArrayRef({2, 10}));
  // ResNet-18 at width 16 on one channel: stem 144 + 32, stages 9,344 + 33,088 + 131,712 +
  // 525,568 (torchvision's layout at a quarter of the width), fc 1,290.
  EXPECT_EQ(CountParameters(**model), 701178);
}

TEST(CreateModel, BuildsTheConfiguredDeiT) {
  torch::manual_seed(0);
  absl::StatusOr<ImageClassifier> model = CreateModel(Config(kDeiT));
  ASSERT_THAT(model, IsOk());
  EXPECT_EQ((*model)->forward(torch::rand({2, 1, 28, 28})).sizes(), torch::IntArrayRef({2, 10}));
  // Patch conv 49*96+96, cls 96, pos 17*96, 6 blocks of 12 d^2 + 13 d, norm 192, head 970.
  EXPECT_EQ(CountParameters(**model), 4800 + 96 + 1632 + 6 * (12 * 96 * 96 + 13 * 96) + 192 + 970);
  EXPECT_EQ((*model)->named_parameters()["blocks.5.mlp.fc1.weight"].size(0), 384);
}

TEST(CreateModel, SameSeedGivesSameWeights) {
  torch::manual_seed(7);
  ImageClassifier a = *CreateModel(Config(kDeiT));
  torch::manual_seed(7);
  ImageClassifier b = *CreateModel(Config(kDeiT));
  EXPECT_TRUE(torch::equal(a->named_parameters()["pos_embed"], b->named_parameters()["pos_embed"]));
}

TEST(CountParameters, CountsWeightsAndBiasesButNotBuffers) {
  EXPECT_EQ(CountParameters(*torch::nn::Linear(3, 4)), 16);
  EXPECT_EQ(CountParameters(**CreateModel(Config(kResNet, "num_classes: 2"))), 701178 - 8 * 129);
}

TEST(ArchitectureName, DescribesBothFamilies) {
  EXPECT_EQ(ArchitectureName(Config(kResNet)), "ResNet[basic 2-2-2-2, w16, small stem, relu]");
  EXPECT_EQ(ArchitectureName(Config(kResNet, R"pb(resnet {
                                                    block: BOTTLENECK
                                                    stage_depths: [ 3, 4, 6, 3 ]
                                                    base_width: 64
                                                    stem: IMAGENET
                                                    activation: GELU
                                                  })pb")),
            "ResNet[bottleneck 2-2-2-2-3-4-6-3, w64, imagenet stem, gelu]");
  EXPECT_EQ(ArchitectureName(Config(kDeiT)), "DeiT[p7 d96 x6 h3]");
  EXPECT_EQ(ArchitectureName(Config(kDeiT, "deit { mlp_ratio: 2.5 }")),
            "DeiT[p7 d96 x6 h3 mlp2.5]");
  EXPECT_EQ(ArchitectureName(proto::ModelConfig()), "UnknownArchitecture");
}

}  // namespace
}  // namespace robustness
