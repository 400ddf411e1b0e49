// Every checked-in config parses strictly, sets every field and passes every range check.
#include <filesystem>
#include <string>
#include <vector>

#include "experiments/table1_imagenet_c/imagenet_c_config.pb.h"
#include "experiments/table1_imagenet_c/table1_imagenet_c.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/status_matchers.h"
#include "robustness/harness/experiment.h"

namespace robustness {
namespace {

constexpr char kConfigDir[] = "experiments/table1_imagenet_c/configs";

TEST(Configs, EveryCheckedInConfigIsCompleteAndValid) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(kConfigDir)) {
    const std::string path = entry.path().string();
    if (entry.path().extension() != ".pbtxt") continue;
    names.push_back(entry.path().filename().string());
    experiments::ImageNetCConfig config;
    auto origins = LoadExperimentConfig(path, &config);
    ASSERT_THAT(origins, IsOk()) << path;
    EXPECT_THAT(ValidateImageNetCConfig(config, path, *origins), IsOk()) << path;
    EXPECT_EQ(config.name() + ".pbtxt", entry.path().filename().string());
  }
  EXPECT_THAT(names, ::testing::IsSupersetOf({"tiny.pbtxt", "fashion_mnist.pbtxt", "imagenet.pbtxt"}));
}

TEST(Configs, BadBaselineRowNamesTheField) {
  experiments::ImageNetCConfig config;
  auto origins = LoadExperimentConfig(std::string(kConfigDir) + "/tiny.pbtxt", &config);
  ASSERT_THAT(origins, IsOk());
  config.set_baseline_row(2);
  EXPECT_THAT(ValidateImageNetCConfig(config, "tiny.pbtxt", *origins),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("baseline_row")));
  config.set_baseline_row(0);
  config.mutable_corruption_eval()->set_severities(0, 9);
  EXPECT_THAT(ValidateImageNetCConfig(config, "tiny.pbtxt", *origins),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("severities[0]")));
}

}  // namespace
}  // namespace robustness
