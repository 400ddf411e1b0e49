// Every checked-in config parses strictly, sets every field and passes every range check, so a
// config that drifts from the code breaks `bazel test`, not a week-long run.
#include <filesystem>
#include <string>
#include <vector>

#include "experiments/table2_adversarial_training/table2_config.pb.h"
#include "experiments/table2_adversarial_training/table2_adversarial_training.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/status_matchers.h"
#include "robustness/harness/experiment.h"

namespace robustness {
namespace {

constexpr char kConfigDir[] = "experiments/table2_adversarial_training/configs";

TEST(Configs, EveryCheckedInConfigIsCompleteAndValid) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(kConfigDir)) {
    const std::string path = entry.path().string();
    if (entry.path().extension() != ".pbtxt") continue;
    names.push_back(entry.path().filename().string());
    experiments::Table2Config config;
    auto origins = LoadExperimentConfig(path, &config);
    ASSERT_THAT(origins, IsOk()) << path;
    EXPECT_THAT(ValidateTable2Config(config, path, *origins), IsOk()) << path;
    EXPECT_EQ(config.name() + ".pbtxt", entry.path().filename().string())
        << "the config's name names its output folder; keep it equal to the file name";
  }
  EXPECT_THAT(names,
              ::testing::IsSupersetOf({"tiny.pbtxt", "fashion_mnist.pbtxt", "imagenet.pbtxt"}));
}

}  // namespace
}  // namespace robustness
