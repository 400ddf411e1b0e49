#include "robustness/models/vgg.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "robustness/base/status_matchers.h"
#include "robustness/config/parse_text_proto.h"
#include "robustness/models/model_factory.h"

namespace robustness {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kSmallVgg[] = R"pb(
  num_classes: 10
  in_channels: 1
  image_size: 28
  normalization { mean: 0.286 std: 0.353 }
  vgg {
    stage_convs: [ 1, 2 ]
    stage_widths: [ 8, 16 ]
    pool_size: 1
    classifier_width: 32
    dropout: 0.5
  }
)pb";

TEST(VggTest, Vgg19HasTorchvisionCountNamesAndLayers) {
  torch::manual_seed(0);
  VGG vgg(VGGOptions(1000, 3));
  int64_t count = 0;
  for (const auto& p : vgg->parameters()) count += p.numel();
  EXPECT_EQ(count, 143667240);  // torchvision.models.vgg19().parameters()
  std::vector<std::string> names;
  for (const auto& item : vgg->named_parameters()) names.push_back(item.key());
  ASSERT_EQ(names.size(), 38u);
  EXPECT_EQ(names.front(), "features.0.weight");
  EXPECT_EQ(names[2], "features.2.weight");
  EXPECT_EQ(names[31], "features.34.bias");
  EXPECT_EQ(names[32], "classifier.0.weight");
  EXPECT_EQ(names.back(), "classifier.6.bias");
  EXPECT_THAT(vgg->StyleLayers(), ElementsAre(1, 6, 11, 20, 29));
  EXPECT_EQ(vgg->CamLayer(), 35);
}

TEST(VggTest, FeatureMapsAndLogitsFromAgreeWithForward) {
  torch::manual_seed(1);
  auto model = CreateModel(ParseTextProtoOrDie<proto::ModelConfig>(kSmallVgg));
  ASSERT_THAT(model.status(), IsOk());
  auto* vgg = dynamic_cast<VGGImpl*>(model->get());
  ASSERT_NE(vgg, nullptr);
  vgg->eval();
  const torch::Tensor x = torch::rand({3, 1, 28, 28});
  EXPECT_THAT(vgg->StyleLayers(), ElementsAre(1, 4));
  EXPECT_EQ(vgg->CamLayer(), 6);
  const auto maps = vgg->FeatureMaps(x, {1, 4, 6}, /*average_pool=*/false);
  EXPECT_THAT(maps[0].sizes(), ElementsAre(3, 8, 28, 28));
  EXPECT_THAT(maps[1].sizes(), ElementsAre(3, 16, 14, 14));
  const torch::Tensor logits = vgg->forward(x);
  EXPECT_TRUE(torch::allclose(vgg->LogitsFrom(maps[2], 6), logits));
  // Average pooling changes what follows the first pool, not what precedes it.
  const auto avg = vgg->FeatureMaps(x, {1, 4}, /*average_pool=*/true);
  EXPECT_TRUE(torch::equal(avg[0], maps[0]));
  EXPECT_FALSE(torch::equal(avg[1], maps[1]));
  EXPECT_EQ(ArchitectureName(ParseTextProtoOrDie<proto::ModelConfig>(kSmallVgg)),
            "VGG[1-2, w8-16, fc32]");
}

TEST(VggTest, ValidationNamesTheField) {
  auto config = ParseTextProtoOrDie<proto::ModelConfig>(kSmallVgg);
  config.mutable_vgg()->add_stage_widths(4);
  EXPECT_THAT(ValidateModelConfig(config).message(),
              HasSubstr("model.vgg.stage_widths: has 3 entries, stage_convs has 2"));
  config = ParseTextProtoOrDie<proto::ModelConfig>(kSmallVgg);
  config.set_image_size(3);
  EXPECT_THAT(ValidateModelConfig(config).message(), HasSubstr("image_size 3 is smaller than 2^2"));
  config = ParseTextProtoOrDie<proto::ModelConfig>(kSmallVgg);
  config.mutable_vgg()->set_dropout(1.0);
  EXPECT_THAT(ValidateModelConfig(config).message(),
              HasSubstr("model.vgg.dropout: must be in [0, 1), got 1"));
  config = ParseTextProtoOrDie<proto::ModelConfig>(kSmallVgg);
  config.mutable_vgg()->set_stage_convs(1, 0);
  EXPECT_THAT(ValidateModelConfig(config).message(),
              HasSubstr("model.vgg.stage_convs[1]: must be >= 1, got 0"));
}

}  // namespace
}  // namespace robustness
