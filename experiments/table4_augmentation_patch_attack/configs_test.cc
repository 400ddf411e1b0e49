// Every checked-in config parses strictly, sets every field and passes every range check.
#include <filesystem>
#include <string>
#include <vector>

#include "experiments/patch_attack/patch_attack_config.pb.h"
#include "experiments/patch_attack/patch_attack_table.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/status_matchers.h"
#include "robustness/harness/experiment.h"

namespace robustness {
namespace {

constexpr char kConfigDir[] = "experiments/table4_augmentation_patch_attack/configs";

TEST(Configs, EveryCheckedInConfigIsCompleteAndValid) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(kConfigDir)) {
    const std::string path = entry.path().string();
    if (entry.path().extension() != ".pbtxt") continue;
    names.push_back(entry.path().filename().string());
    experiments::PatchAttackTableConfig config;
    auto origins = LoadExperimentConfig(path, &config);
    ASSERT_THAT(origins, IsOk()) << path;
    EXPECT_THAT(ValidatePatchAttackTableConfig(config, path, *origins), IsOk()) << path;
    EXPECT_EQ(config.name() + ".pbtxt", entry.path().filename().string());
  }
  EXPECT_THAT(names, ::testing::IsSupersetOf({"tiny.pbtxt", "fashion_mnist.pbtxt", "imagenet.pbtxt"}));
}

// Bad values: experiments/table3_patch_attack/configs_test.cc (the same validator).

}  // namespace
}  // namespace robustness
