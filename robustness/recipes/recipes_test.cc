// Every checked-in recipe composes, sets every field, and passes the trainer's checks for the
// data it is written for (Fashion-MNIST: 60000 images of 1 x 28 x 28; ImageNet: 1281167 of
// 3 x 224 x 224). The numbers the paper states are checked where a typo would change a result.
#include <filesystem>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/status_matchers.h"
#include "robustness/config/composed_config.h"
#include "robustness/config/require_fields.h"
#include "robustness/proto/training.pb.h"
#include "robustness/training/lr_schedule.h"
#include "robustness/training/trainer.h"

namespace robustness {
namespace {

proto::TrainingConfig Load(const std::string& path) {
  proto::TrainingConfig config;
  absl::Status status = ReadComposedConfig(path, &config);
  EXPECT_THAT(status, IsOk()) << path;
  return config;
}

TEST(Recipes, EveryRecipeIsCompleteAndValidForItsData) {
  int checked = 0;
  for (const auto& [dir, size, channels, images] :
       std::vector<std::tuple<std::string, int, int, int64_t>>{
           {"robustness/recipes/fashion_mnist", 28, 1, 60000},
           {"robustness/recipes/imagenet", 224, 3, 1281167}}) {
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (entry.path().extension() != ".pbtxt") continue;
      const proto::TrainingConfig config = Load(entry.path().string());
      EXPECT_THAT(RequireAllFieldsSet(config, entry.path().string()), IsOk());
      EXPECT_THAT(ValidateTrainingConfig(config, images, size, channels), IsOk())
          << entry.path();
      ++checked;
    }
  }
  // cnn, deit, resnet_star, resnet_best, adv_deit, adv_resnet at 2 scales, and fashion_mnist/
  // vgg_features (the texture dictionary's feature network)
  EXPECT_EQ(checked, 13);
}

TEST(Recipes, PaperScaleRecipesApplyThePapersPeakRates) {
  const std::string dir = "robustness/recipes/imagenet/";
  EXPECT_DOUBLE_EQ(PeakLearningRate(Load(dir + "deit_s_paper.pbtxt")), 2e-3);   // deit.sh
  EXPECT_DOUBLE_EQ(PeakLearningRate(Load(dir + "resnet50_star.pbtxt")), 5e-4);  // res.sh
  EXPECT_DOUBLE_EQ(PeakLearningRate(Load(dir + "adv_deit_s.pbtxt")), 4e-3);     // advdeit.sh
  EXPECT_DOUBLE_EQ(PeakLearningRate(Load(dir + "adv_resnet50.pbtxt")), 0.8);    // advres.sh
  EXPECT_DOUBLE_EQ(PeakLearningRate(Load(dir + "cnn_resnet50.pbtxt")), 0.1);
  const proto::TrainingConfig deit = Load(dir + "deit_s_paper.pbtxt");
  EXPECT_EQ(deit.augmentation().rand_augment().spec(), "rand-m9-mstd0.5-inc1");
  EXPECT_EQ(deit.mixup().mixup_alpha(), 0.8);
  EXPECT_EQ(deit.mixup().cutmix_alpha(), 1.0);
  EXPECT_TRUE(deit.augmentation().has_no_erasing());  // --reprob 0
  EXPECT_TRUE(deit.has_shuffle());                     // --no-repeated-aug
  EXPECT_EQ(Load(dir + "adv_deit_s.pbtxt").augmentation_schedule().rows_size(), 11);
}

}  // namespace
}  // namespace robustness
