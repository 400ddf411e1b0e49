#include "robustness/models/model_factory.h"

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/nn/modules/linear.h>
#include <torch/utils.h>

#include "robustness/base/status_matchers.h"
#include "robustness/config/parse_text_proto.h"
#include "robustness/models/deit.h"
#include "robustness/models/ghost_batch_norm.h"

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
    batch_norm {}
  }
)pb";

constexpr char kDeiT[] = R"pb(
  num_classes: 10
  in_channels: 1
  image_size: 28
  normalization { mean: 0.5 std: 0.5 }
  deit {
    patch_size: 7
    embed_dim: 96
    depth: 6
    num_heads: 3
    mlp_ratio: 4
    init: TIMM
    drop_path_rate: 0
    distillation_token: false
  }
)pb";

// A small Hybrid-DeiT: ResNet BASIC 1-1 at width 8 after the IMAGENET stem (stride 4 * 2 = 8), so
// 32 px images give 4x4 = 16 tokens of 16 channels, into a 2-block encoder.
constexpr char kHybrid[] = R"pb(
  num_classes: 10
  in_channels: 3
  image_size: 32
  normalization {
    mean: [ 0.5, 0.5, 0.5 ]
    std: [ 0.5, 0.5, 0.5 ]
  }
  hybrid_deit {
    backbone {
      block: BASIC
      stage_depths: [ 1, 1 ]
      base_width: 8
      stem: IMAGENET
      activation: RELU
      batch_norm {}
    }
    encoder {
      patch_size: 8
      embed_dim: 32
      depth: 2
      num_heads: 2
      mlp_ratio: 4
      init: TIMM
      drop_path_rate: 0
      distillation_token: false
    }
  }
)pb";

// The paper's Hybrid-DeiT (PAPER.md 3.12): ResNet-18 up to layer3 into DeiT-Mini, 224 px.
constexpr char kPaperHybrid[] = R"pb(
  num_classes: 1000
  in_channels: 3
  image_size: 224
  normalization {
    mean: [ 0.485, 0.456, 0.406 ]
    std: [ 0.229, 0.224, 0.225 ]
  }
  hybrid_deit {
    backbone {
      block: BASIC
      stage_depths: [ 2, 2, 2 ]
      base_width: 64
      stem: IMAGENET
      activation: RELU
      batch_norm {}
    }
    encoder {
      patch_size: 16
      embed_dim: 256
      depth: 12
      num_heads: 4
      mlp_ratio: 4
      init: TIMM
      drop_path_rate: 0
      distillation_token: false
    }
  }
)pb";

proto::ModelConfig Config(const std::string& base, const std::string& edit = "") {
  proto::ModelConfig config = ParseTextProtoOrDie<proto::ModelConfig>(base);
  config.MergeFrom(ParseTextProtoOrDie<proto::ModelConfig>(edit));  // Scalars override.
  return config;
}

TEST(ValidateModelConfig, AcceptsValidConfigs) {
  EXPECT_THAT(ValidateModelConfig(Config(kResNet)), IsOk());
  EXPECT_THAT(ValidateModelConfig(
                  Config(kResNet, "resnet { ghost_batch_norm { virtual_batch_size: 32 } }")),
              IsOk());
  EXPECT_THAT(ValidateModelConfig(Config(kDeiT)), IsOk());
  EXPECT_THAT(ValidateModelConfig(Config(kDeiT, R"pb(deit {
                                                       init: ZERO_RESIDUAL_PROJECTIONS
                                                       drop_path_rate: 0.1
                                                       distillation_token: true
                                                     })pb")),
              IsOk());
  EXPECT_THAT(ValidateModelConfig(Config(kHybrid)), IsOk());
  EXPECT_THAT(ValidateModelConfig(Config(kPaperHybrid)), IsOk());
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
        {kResNet, "NormLayerUnset", [](C& c) { c.mutable_resnet()->clear_batch_norm(); },
         "model.resnet.norm_layer: is not set (batch_norm or ghost_batch_norm)"},
        {kResNet, "GhostBatchUnset",
         [](C& c) { c.mutable_resnet()->mutable_ghost_batch_norm(); },
         "model.resnet.ghost_batch_norm.virtual_batch_size: is not set"},
        {kResNet, "GhostBatchZero",
         [](C& c) { c.mutable_resnet()->mutable_ghost_batch_norm()->set_virtual_batch_size(0); },
         "model.resnet.ghost_batch_norm.virtual_batch_size: must be >= 1, got 0"},
        {kResNet, "NoArchitecture", [](C& c) { c.clear_resnet(); },
         "model.architecture: none of resnet, deit, hybrid_deit or vgg is set"},
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
        {kDeiT, "InitUnset", [](C& c) { c.mutable_deit()->clear_init(); },
         "model.deit.init: is not set (TIMM or ZERO_RESIDUAL_PROJECTIONS)"},
        {kDeiT, "DropPathUnset", [](C& c) { c.mutable_deit()->clear_drop_path_rate(); },
         "model.deit.drop_path_rate: is not set"},
        {kDeiT, "DropPathOne", [](C& c) { c.mutable_deit()->set_drop_path_rate(1.0); },
         "model.deit.drop_path_rate: must be in [0, 1), got 1"},
        {kDeiT, "DropPathNegative", [](C& c) { c.mutable_deit()->set_drop_path_rate(-0.1); },
         "model.deit.drop_path_rate: must be in [0, 1), got -0.1"},
        {kDeiT, "DropPathNaN", [](C& c) { c.mutable_deit()->set_drop_path_rate(std::nan("")); },
         "model.deit.drop_path_rate: must be in [0, 1), got nan"},
        {kDeiT, "DistillationUnset",
         [](C& c) { c.mutable_deit()->clear_distillation_token(); },
         "model.deit.distillation_token: is not set"},
        {kHybrid, "BackboneUnset", [](C& c) { c.mutable_hybrid_deit()->clear_backbone(); },
         "model.hybrid_deit.backbone: is not set"},
        {kHybrid, "BackboneDepth",
         [](C& c) { c.mutable_hybrid_deit()->mutable_backbone()->set_stage_depths(1, 0); },
         "model.hybrid_deit.backbone.stage_depths[1]: must be >= 1, got 0"},
        {kHybrid, "BackboneNorm",
         [](C& c) { c.mutable_hybrid_deit()->mutable_backbone()->clear_batch_norm(); },
         "model.hybrid_deit.backbone.norm_layer: is not set"},
        {kHybrid, "EncoderUnset", [](C& c) { c.mutable_hybrid_deit()->clear_encoder(); },
         "model.hybrid_deit.encoder: is not set"},
        {kHybrid, "EncoderPatchUnset",
         [](C& c) { c.mutable_hybrid_deit()->mutable_encoder()->clear_patch_size(); },
         "model.hybrid_deit.encoder.patch_size: is not set"},
        {kHybrid, "PatchIsNotTheStride",
         [](C& c) { c.mutable_hybrid_deit()->mutable_encoder()->set_patch_size(16); },
         "model.hybrid_deit.encoder.patch_size: must equal the backbone's total stride 8 "
         "(IMAGENET stem /4, then /2 in each of the 1 stages after the first; e.g. 16 for "
         "ResNet-18 up to layer3 with the IMAGENET stem), got 16"},
        {kHybrid, "StrideOfASmallStem",
         [](C& c) { c.mutable_hybrid_deit()->mutable_backbone()->set_stem(proto::ResNetConfig::SMALL); },
         "model.hybrid_deit.encoder.patch_size: must equal the backbone's total stride 2 (SMALL "
         "stem /1"},
        {kHybrid, "ImageNotDivisibleByStride", [](C& c) { c.set_image_size(36); },
         "model.hybrid_deit.encoder.patch_size: image_size 36 is not divisible by patch_size 8"},
        {kHybrid, "EncoderHeads",
         [](C& c) { c.mutable_hybrid_deit()->mutable_encoder()->set_num_heads(3); },
         "model.hybrid_deit.encoder.num_heads: embed_dim 32 is not divisible by num_heads 3"},
        {kHybrid, "EncoderDropPath",
         [](C& c) { c.mutable_hybrid_deit()->mutable_encoder()->set_drop_path_rate(2); },
         "model.hybrid_deit.encoder.drop_path_rate: must be in [0, 1), got 2"},
        {kHybrid, "EncoderInit",
         [](C& c) { c.mutable_hybrid_deit()->mutable_encoder()->clear_init(); },
         "model.hybrid_deit.encoder.init: is not set"},
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

TEST(CreateModel, BuildsGhostBatchNormResNets) {
  torch::manual_seed(0);
  absl::StatusOr<ImageClassifier> model =
      CreateModel(Config(kResNet, "resnet { ghost_batch_norm { virtual_batch_size: 2 } }"));
  ASSERT_THAT(model, IsOk());
  auto modules = (*model)->named_modules();
  for (const char* name : {"bn1", "layer1.0.bn2", "layer2.0.downsample.1"}) {
    auto* norm = modules[name]->as<GhostBatchNorm2dImpl>();
    ASSERT_NE(norm, nullptr) << name;
    EXPECT_EQ(norm->options.virtual_batch_size(), 2);
  }
  EXPECT_EQ(CountParameters(**model), 701178);  // As with BatchNorm.
}

TEST(CreateModel, BuildsDeiTOptionsFromTheConfig) {
  torch::manual_seed(0);
  absl::StatusOr<ImageClassifier> model =
      CreateModel(Config(kDeiT, R"pb(deit {
                                       init: ZERO_RESIDUAL_PROJECTIONS
                                       drop_path_rate: 0.2
                                       distillation_token: true
                                     })pb"));
  ASSERT_THAT(model, IsOk());
  auto* deit = (*model)->as<DeiTImpl>();
  ASSERT_NE(deit, nullptr);
  EXPECT_TRUE(deit->options.zero_init_residual_projections());
  EXPECT_DOUBLE_EQ(deit->options.drop_path_rate(), 0.2);
  EXPECT_EQ(deit->named_parameters()["blocks.3.mlp.fc2.weight"].abs().sum().item<double>(), 0.0);
  // Patch conv, cls + dist tokens, pos 18 rows, 6 blocks, norm, head and head_dist.
  EXPECT_EQ(CountParameters(*deit),
            4800 + 2 * 96 + 18 * 96 + 6 * (12 * 96 * 96 + 13 * 96) + 192 + 2 * 970);
  deit->eval();
  torch::Tensor images = torch::rand({2, 1, 28, 28});
  auto [logits, dist_logits] = deit->forward_heads(images);
  EXPECT_TRUE(torch::equal(deit->forward(images), (logits + dist_logits) / 2));
}

TEST(CreateModel, BuildsTheConfiguredHybridDeiT) {
  torch::manual_seed(0);
  absl::StatusOr<ImageClassifier> model = CreateModel(Config(kHybrid));
  ASSERT_THAT(model, IsOk());
  EXPECT_EQ((*model)->forward(torch::rand({2, 3, 32, 32})).sizes(), torch::IntArrayRef({2, 10}));
  // Trunk: conv1 3*8*49, bn1 16; layer1 2 * (8*8*9 + 16); layer2 8*16*9 + 32 + 16*16*9 + 32 +
  // downsample 8*16 + 32. Encoder: proj 16*32 + 32, cls 32, pos 17*32, 2 blocks of 12 d^2 + 13 d,
  // norm 64, head 330.
  const int64_t trunk = 1176 + 16 + 2 * (576 + 16) + 1152 + 32 + 2304 + 32 + 128 + 32;
  const int64_t encoder = 544 + 32 + 544 + 2 * (12 * 32 * 32 + 13 * 32) + 64 + 330;
  EXPECT_EQ(CountParameters(**model), trunk + encoder);
  auto params = (*model)->named_parameters();
  EXPECT_EQ(params["patch_embed.proj.weight"].sizes(), torch::IntArrayRef({32, 16}));
  EXPECT_EQ(params["pos_embed"].sizes(), torch::IntArrayRef({1, 17, 32}));
  EXPECT_TRUE(params.contains("patch_embed.backbone.layer2.0.downsample.0.weight"));
}

TEST(CreateModel, BuildsThePapersHybridDeiT) {
  torch::manual_seed(0);
  absl::StatusOr<ImageClassifier> model = CreateModel(Config(kPaperHybrid));
  ASSERT_THAT(model, IsOk());
  EXPECT_EQ(CountParameters(**model), 12633896);  // 2,782,784 trunk + 9,851,112 encoder.
  EXPECT_EQ((*model)->as<DeiTImpl>()->num_patches(), 196);
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

TEST(ArchitectureName, ShowsTheNewOptionsOnlyWhenTheyDepartFromTheDefaults) {
  EXPECT_EQ(
      ArchitectureName(Config(kResNet, "resnet { ghost_batch_norm { virtual_batch_size: 64 } }")),
      "ResNet[basic 2-2-2-2, w16, small stem, relu, ghost bn 64]");
  EXPECT_EQ(ArchitectureName(Config(kDeiT, R"pb(deit {
                                                  init: ZERO_RESIDUAL_PROJECTIONS
                                                  drop_path_rate: 0.1
                                                  distillation_token: true
                                                })pb")),
            "DeiT[p7 d96 x6 h3 zero-init drop-path0.1 distilled]");
  EXPECT_EQ(ArchitectureName(Config(kPaperHybrid)),
            "HybridDeiT[resnet basic 2-2-2 -> d256 x12 h4]");
  EXPECT_EQ(ArchitectureName(Config(kHybrid)), "HybridDeiT[resnet basic 1-1, w8 -> d32 x2 h2]");
  EXPECT_EQ(
      ArchitectureName(Config(kPaperHybrid, R"pb(hybrid_deit {
                                                   backbone {
                                                     stem: SMALL
                                                     activation: GELU
                                                     ghost_batch_norm { virtual_batch_size: 64 }
                                                   }
                                                   encoder { distillation_token: true }
                                                 })pb")),
      "HybridDeiT[resnet basic 2-2-2, small stem, gelu, ghost bn 64 -> d256 x12 h4 "
      "distilled]");
  proto::ModelConfig unset = Config(kDeiT);
  unset.mutable_deit()->clear_init();
  unset.mutable_deit()->clear_drop_path_rate();
  unset.mutable_deit()->clear_distillation_token();
  EXPECT_EQ(ArchitectureName(unset), "DeiT[p7 d96 x6 h3 init? drop-path? distilled?]");
  unset = Config(kResNet);
  unset.mutable_resnet()->clear_batch_norm();
  EXPECT_EQ(ArchitectureName(unset), "ResNet[basic 2-2-2-2, w16, small stem, relu, ? norm]");
}

}  // namespace
}  // namespace robustness
