// Every checked-in config parses strictly, sets every field and passes every range check; bad
// values name their field.
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

using ::testing::HasSubstr;

constexpr char kConfigDir[] = "experiments/table3_patch_attack/configs";

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

TEST(Configs, BadValuesNameTheirField) {
  experiments::PatchAttackTableConfig config;
  auto origins = LoadExperimentConfig(std::string(kConfigDir) + "/tiny.pbtxt", &config);
  ASSERT_THAT(origins, IsOk());
  experiments::PatchAttackTableConfig bad = config;
  bad.mutable_tpa()->mutable_attack()->set_area_fraction(1.0);
  EXPECT_THAT(ValidatePatchAttackTableConfig(bad, "tiny.pbtxt", *origins),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("tpa.attack.area_fraction: must be in (0, 1), got 1")));
  bad = config;
  bad.mutable_tpa()->mutable_attack()->set_num_patches(0);
  EXPECT_THAT(ValidatePatchAttackTableConfig(bad, "tiny.pbtxt", *origins),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("tpa.attack.num_patches: must be >= 1, got 0")));
  bad = config;
  bad.mutable_dictionary()->set_texture_size(32);
  EXPECT_THAT(ValidatePatchAttackTableConfig(bad, "tiny.pbtxt", *origins),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("dictionary.texture_size: 32, the rows' images are 28 px")));
  bad = config;
  bad.mutable_dictionary()->mutable_stored()->mutable_model()->set_num_classes(5);
  EXPECT_THAT(ValidatePatchAttackTableConfig(bad, "tiny.pbtxt", *origins),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("5 classes")));
  bad = config;
  *bad.mutable_dictionary()->mutable_stored()->mutable_model() = config.models(0).model();
  EXPECT_THAT(ValidatePatchAttackTableConfig(bad, "tiny.pbtxt", *origins),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("must be a VGG")));
}

}  // namespace
}  // namespace robustness
