// Every checked-in zoo config (robustness/models/configs/) parses strictly, sets every field,
// validates, builds, and has the parameter count of PAPER.md 3.12 (Hybrid-DeiT: the derived
// 12,633,896 of deit.h; the Fashion-MNIST pair: the models of experiments/
// table1_vanilla_robustness/configs/fashion_mnist.pbtxt), so a config that drifts from the code
// or the paper breaks `bazel test`.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/utils.h>

#include "robustness/base/status_matchers.h"
#include "robustness/config/require_fields.h"
#include "robustness/config/text_proto_file.h"
#include "robustness/models/model_factory.h"
#include "robustness/proto/model.pb.h"

namespace robustness {
namespace {

constexpr char kConfigDir[] = "robustness/models/configs";

const std::map<std::string, int64_t>& ExpectedParameters() {
  static const auto* expected = new std::map<std::string, int64_t>{
      {"resnet18", 11689512},   {"resnet50", 25557032},   {"resnet101", 44549160},
      {"resnet200", 64673832},  {"deit_ti", 5717416},     {"deit_mini", 9982184},
      {"deit_s", 22050664},     {"deit_b", 86567656},     {"hybrid_deit", 12633896},
      {"fashion_mnist_resnet18_w16", 701178},  // experiments/table1_vanilla_robustness
      {"fashion_mnist_deit_p7_d96", 678730},
      {"vgg19", 143667240},                    // torchvision.models.vgg19()
      {"fashion_mnist_vgg_features", 171770},  // experiments/table3_patch_attack's dictionary
  };
  return *expected;
}

TEST(ZooConfigs, EveryConfigIsCompleteValidAndHasThePaperParameterCount) {
  std::map<std::string, int64_t> found;
  for (const auto& entry : std::filesystem::directory_iterator(kConfigDir)) {
    if (entry.path().extension() != ".pbtxt") continue;
    const std::string path = entry.path().string();
    const std::string name = entry.path().stem().string();
    SCOPED_TRACE(path);
    absl::StatusOr<proto::ModelConfig> config = ReadTextProtoFile<proto::ModelConfig>(path);
    ASSERT_THAT(config, IsOk());
    EXPECT_THAT(RequireAllFieldsSet(*config, path), IsOk());
    torch::manual_seed(0);
    absl::StatusOr<ImageClassifier> model = CreateModel(*config);
    ASSERT_THAT(model, IsOk());
    found[name] = CountParameters(**model);
  }
  EXPECT_EQ(found, ExpectedParameters()) << "every config has a count above, and matches it";
}

TEST(ZooConfigs, ImageNetConfigsShareTheInputContract) {
  for (const auto& [name, unused] : ExpectedParameters()) {
    if (name.rfind("fashion_mnist", 0) == 0) continue;
    absl::StatusOr<proto::ModelConfig> config = ReadTextProtoFile<proto::ModelConfig>(
        std::string(kConfigDir) + "/" + name + ".pbtxt");
    ASSERT_THAT(config, IsOk()) << name;
    EXPECT_EQ(config->image_size(), 224) << name;
    EXPECT_EQ(config->num_classes(), 1000) << name;
    EXPECT_EQ(config->in_channels(), 3) << name;
    EXPECT_THAT(config->normalization().mean(), ::testing::ElementsAre(0.485f, 0.456f, 0.406f))
        << name;
    EXPECT_THAT(config->normalization().std(), ::testing::ElementsAre(0.229f, 0.224f, 0.225f))
        << name;
  }
}

}  // namespace
}  // namespace robustness
