// Every checked-in config parses strictly, sets every field and passes every range check, so a
// config that drifts from the code breaks `bazel test`, not a week-long run.
#include <filesystem>
#include <string>
#include <vector>

#include "experiments/table1_vanilla_robustness/table1_config.pb.h"
#include "experiments/table1_vanilla_robustness/table1_vanilla_robustness.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/status_matchers.h"
#include "robustness/harness/experiment.h"

namespace robustness {
namespace {

constexpr char kConfigDir[] = "experiments/table1_vanilla_robustness/configs";

TEST(Configs, EveryCheckedInConfigIsCompleteAndValid) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(kConfigDir)) {
    const std::string path = entry.path().string();
    if (entry.path().extension() != ".pbtxt") continue;
    names.push_back(entry.path().filename().string());
    experiments::Table1Config config;
    auto origins = LoadExperimentConfig(path, &config);
    ASSERT_THAT(origins, IsOk()) << path;
    EXPECT_THAT(ValidateTable1Config(config, path, *origins), IsOk()) << path;
    EXPECT_EQ(config.name() + ".pbtxt", entry.path().filename().string())
        << "the config's name names its output folder; keep it equal to the file name";
  }
  EXPECT_THAT(names, ::testing::IsSupersetOf({"tiny.pbtxt", "fashion_mnist.pbtxt",
                                              "fashion_mnist_full.pbtxt", "imagenet.pbtxt"}));
}

}  // namespace
}  // namespace robustness
