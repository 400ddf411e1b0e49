#include "robustness/evaluation/corruption_eval.h"

#include <filesystem>

#include "gtest/gtest.h"
#include "robustness/base/status_matchers.h"
#include "robustness/corruptions/corruption_names.h"
#include "robustness/corruptions/corruptor.h"
#include "robustness/datasets/idx_writer.h"
#include "robustness/datasets/in_memory_dataset.h"

namespace robustness {
namespace {

using ::testing::HasSubstr;

// A fixed two-class model: class 1 when the image's centre is brighter than its border.
class CentreModel : public ImageClassifierImpl {
 public:
  torch::Tensor forward(const torch::Tensor& x) override {
    const torch::Tensor centre = x.slice(2, 10, 18).slice(3, 10, 18).mean({1, 2, 3});
    const torch::Tensor all = x.mean({1, 2, 3});
    const torch::Tensor score = (centre - all) * 20;
    return torch::stack({-score, score}, 1);
  }
};

std::shared_ptr<InMemoryDataset> TwoClassData(int64_t n) {
  torch::Tensor images = torch::full({n, 1, 28, 28}, 60, torch::kUInt8);
  torch::Tensor labels = torch::arange(n, torch::kLong).remainder(2);
  for (int64_t i = 0; i < n; ++i) {
    if (labels[i].item<int64_t>() == 1) images[i].slice(1, 8, 20).slice(2, 8, 20).fill_(200 - i);
  }
  return std::make_shared<InMemoryDataset>(images, labels, 2);
}

proto::CorruptionEvalConfig Config() {
  proto::CorruptionEvalConfig config;
  config.mutable_corruption()->set_severity_table(proto::CIFAR10_C);
  config.mutable_on_the_fly()->set_seed(5);
  for (const char* c : {"gaussian_noise", "contrast", "speckle_noise"}) config.add_corruptions(c);
  for (int s = 1; s <= 5; ++s) config.add_severities(s);
  config.set_num_images(0);
  config.set_batch_size(7);
  config.set_alexnet_normalized(false);
  return config;
}

TEST(CorruptionEval, OnTheFlyEqualsThePreRenderedCopyWithTheSameSeed) {
  auto data = TwoClassData(20);
  CentreModel model;
  const proto::CorruptionEvalConfig config = Config();
  auto live = EvaluateCorruptions(model, data, ImageTransform(), config, {});
  ASSERT_THAT(live.status(), IsOk());
  EXPECT_EQ(live->num_images, 20);
  EXPECT_DOUBLE_EQ(live->clean_error, 0.0);
  // Render the same images as tools/corrupt does (image i's stream), then read them back.
  const std::string root = testing::TempDir() + "/rendered";
  auto corruptor = Corruptor::Create(config.corruption());
  ASSERT_THAT(corruptor.status(), IsOk());
  for (const std::string& name : config.corruptions()) {
    for (int s : config.severities()) {
      const std::string dir = absl::StrCat(root, "/", name, "/", s);
      std::filesystem::create_directories(dir);
      auto id = ParseCorruptionName(name);
      auto out = corruptor->ApplyBatch(data->images(), *id, s, 5, 0, 2);
      ASSERT_THAT(out.status(), IsOk());
      ASSERT_THAT(WriteIdxImages(dir + "/images-idx3-ubyte.gz", *out), IsOk());
      ASSERT_THAT(WriteIdxLabels(dir + "/labels-idx1-ubyte.gz", data->labels()), IsOk());
    }
  }
  proto::CorruptionEvalConfig pre = config;
  pre.set_pre_rendered_root(root);
  auto rendered = EvaluateCorruptions(model, data, ImageTransform(), pre, {});
  ASSERT_THAT(rendered.status(), IsOk());
  for (size_t c = 0; c < live->corruptions.size(); ++c) {
    EXPECT_EQ(live->corruptions[c].errors, rendered->corruptions[c].errors) << c;
  }
  // Contrast at CIFAR's severity 5 (x0.15) shrinks the centre/border gap but keeps its sign.
  EXPECT_EQ(live->corruptions[1].corruption, "contrast");
  EXPECT_DOUBLE_EQ(live->corruptions[1].mean_error, 0.0);
  EXPECT_NEAR(live->mce_common, 100 * (live->corruptions[0].mean_error +
                                       live->corruptions[1].mean_error) / 2, 1e-9);
}

TEST(CorruptionEval, NormalisationBySelfIsOneHundred) {
  auto data = TwoClassData(12);
  CentreModel model;
  auto report = EvaluateCorruptions(model, data, ImageTransform(), Config(), {});
  ASSERT_THAT(report.status(), IsOk());
  CorruptionReport copy = *report;
  NormalizeBy(*report, "itself", &copy);
  EXPECT_EQ(copy.baseline, "itself");
  EXPECT_NEAR(copy.corruptions[0].normalized_ce, 100.0, 1e-9);
  EXPECT_NE(RenderCorruptionMarkdown("t", copy).find("CE / itself"), std::string::npos);
  EXPECT_NE(RenderCorruptionHeatMap("t", copy).find("<svg"), std::string::npos);
}

TEST(CorruptionEval, AlexNetConstantsAreAugMixs) {
  EXPECT_DOUBLE_EQ(AlexNetMeanError("gaussian_noise"), 0.886428);
  EXPECT_DOUBLE_EQ(AlexNetMeanError("jpeg_compression"), 0.606500);
  EXPECT_LT(AlexNetMeanError("saturate"), 0);
}

TEST(CorruptionEval, BadConfigsNameTheField) {
  proto::CorruptionEvalConfig config = Config();
  config.set_corruptions(1, "contrastt");
  EXPECT_THAT(ValidateCorruptionEvalConfig(config, 10),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("corruptions[1]")));
  config = Config();
  config.set_severities(0, 6);
  EXPECT_THAT(ValidateCorruptionEvalConfig(config, 10),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("severities[0]")));
  config = Config();
  config.set_num_images(11);
  EXPECT_THAT(ValidateCorruptionEvalConfig(config, 10),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("num_images")));
  config = Config();
  config.set_alexnet_normalized(true);
  EXPECT_THAT(ValidateCorruptionEvalConfig(config, 10),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("15 common")));
  config = Config();
  config.set_pre_rendered_root("/nonexistent/imagenet-c");
  auto data = TwoClassData(4);
  CentreModel model;
  EXPECT_THAT(EvaluateCorruptions(model, data, ImageTransform(), config, {}).status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/imagenet-c")));
}

}  // namespace
}  // namespace robustness
