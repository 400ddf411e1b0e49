// Every checked-in tools/train config (the examples and the distillation pairs, ImageNet and
// Fashion-MNIST) parses strictly, sets every field and passes every range check.
#include <filesystem>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/status_matchers.h"
#include "tools/train/train_tool.h"

namespace robustness {
namespace {

using ::testing::HasSubstr;

TEST(Configs, EveryCheckedInConfigIsCompleteAndValid) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator("tools/train")) {
    if (entry.path().extension() != ".pbtxt") continue;
    const std::string path = entry.path().string();
    names.push_back(entry.path().filename().string());
    auto config = LoadTrainConfig(path, "");
    ASSERT_THAT(config, IsOk()) << path;
    EXPECT_EQ(config->name() + ".pbtxt", entry.path().filename().string());
  }
  EXPECT_THAT(names, ::testing::IsSupersetOf({"fashion_mnist_distill_deit_to_resnet.pbtxt",
                                              "fashion_mnist_distill_resnet_to_deit.pbtxt",
                                              "imagenet_distill_deit_s_to_resnet50.pbtxt",
                                              "imagenet_distill_resnet50_star_to_deit_s.pbtxt"}));
}

// The distillation pairs' teachers are the Table 1 rows (same spec), and bad knobs name the field.
TEST(Configs, DistillationErrorsNameTheField) {
  const std::string path = "tools/train/fashion_mnist_distill_deit_to_resnet.pbtxt";
  EXPECT_THAT(LoadTrainConfig(path, "run { distillation { tau: 0 } }"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("run.distillation.tau")));
  EXPECT_THAT(LoadTrainConfig(path, "run { distillation { alpha: 2 } }"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("run.distillation.alpha")));
  EXPECT_THAT(
      LoadTrainConfig(path, "run { distillation { stored { model { num_classes: 5 } } } }"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("the teacher has 5 classes")));
  auto undistilled = LoadTrainConfig(path, "run { no_distillation {} }");
  ASSERT_THAT(undistilled, IsOk());
  EXPECT_FALSE(undistilled->run().has_distillation());
}

}  // namespace
}  // namespace robustness
