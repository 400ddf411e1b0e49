#include "robustness/textures/texture_dictionary.h"

#include <unistd.h>

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "robustness/base/atomic_file.h"
#include "robustness/base/status_matchers.h"
#include "robustness/datasets/in_memory_dataset.h"
#include "robustness/textures/dictionary_builder.h"

namespace robustness {
namespace {

using ::testing::HasSubstr;

// A random 2-class VGG and 16 random 8 px images labelled by it, its last bias moved so that
// half go to each class: a fixture on which the feature network is right by construction.
struct Fixture {
  VGG vgg{nullptr};
  std::shared_ptr<InMemoryDataset> data;
};

Fixture MakeFixture() {
  torch::manual_seed(11);
  Fixture f;
  f.vgg = VGG(VGGOptions(2, 1).stage_convs({1, 1}).stage_widths({4, 8}).pool_size(1)
                  .classifier_width(8).normalize(NormalizeOptions({0.3}, {0.4})));
  f.vgg->eval();
  const torch::Tensor images = torch::randint(0, 256, {16, 1, 8, 8}, torch::kLong).to(torch::kUInt8);
  torch::NoGradGuard no_grad;
  const torch::Tensor x = images.to(torch::kFloat) / 255;
  torch::Tensor logits = f.vgg->forward(x);
  const torch::Tensor gap = logits.select(1, 0) - logits.select(1, 1);
  auto& bias = f.vgg->named_parameters()["classifier.6.bias"];
  const torch::Tensor sorted = std::get<0>(gap.sort());
  bias[1] += 0.5f * (sorted[7].item<float>() + sorted[8].item<float>());
  logits = f.vgg->forward(x);
  f.data = std::make_shared<InMemoryDataset>(images, logits.argmax(1), 2);
  return f;
}

proto::TextureDictionaryConfig Config() {
  proto::TextureDictionaryConfig c;
  c.set_texture_size(8);
  c.set_max_images_per_class(0);
  c.set_cam_threshold(0.8);
  c.set_textures_per_class(2);
  c.mutable_kmeans()->set_restarts(2);
  c.mutable_kmeans()->set_max_iterations(50);
  c.mutable_kmeans()->set_tolerance(1e-4);
  c.mutable_synthesis()->set_iterations(20);
  c.mutable_synthesis()->set_learning_rate(0.01);
  c.mutable_synthesis()->set_loss_scale(1e6);
  c.set_batch_size(5);
  c.set_seed(3);
  return c;
}

std::string TempDir(const std::string& name) {
  return absl::StrCat(::testing::TempDir(), "/", name, "_", getpid());
}

TEST(TextureDictionaryTest, BuildsResumesToTheSameFilesAndOpens) {
  Fixture f = MakeFixture();
  const std::string whole = TempDir("whole"), resumed = TempDir("resumed");
  auto built = BuildTextureDictionary(whole, *f.vgg, "VGG[test]", "w", *f.data, Config());
  ASSERT_THAT(built.status(), IsOk());
  ASSERT_EQ(built->classes_size(), 2);
  EXPECT_GE(built->classes(0).correct_images(), 2);
  DictionaryBuildOptions stop;
  stop.stop_after_classes = 1;
  EXPECT_EQ(BuildTextureDictionary(resumed, *f.vgg, "VGG[test]", "w", *f.data, Config(), stop).status().code(),
            absl::StatusCode::kCancelled);
  EXPECT_EQ(TextureDictionary::Open(resumed, 2, 1, 8).status().code(),
            absl::StatusCode::kFailedPrecondition);
  auto finished = BuildTextureDictionary(resumed, *f.vgg, "VGG[test]", "w", *f.data, Config());
  ASSERT_THAT(finished.status(), IsOk());
  for (int c = 0; c < 2; ++c) {
    EXPECT_EQ(finished->classes(c).sha256(), built->classes(c).sha256());
  }
  auto dict = TextureDictionary::Open(whole, 2, 1, 8);
  ASSERT_THAT(dict.status(), IsOk());
  auto textures = dict->Textures(1);
  ASSERT_THAT(textures.status(), IsOk());
  EXPECT_THAT(textures->sizes(), ::testing::ElementsAre(2, 1, 8, 8));
  // Another config in the same folder is refused, never overwritten.
  proto::TextureDictionaryConfig other = Config();
  other.set_seed(4);
  EXPECT_THAT(BuildTextureDictionary(whole, *f.vgg, "VGG[test]", "w", *f.data, other).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("another build config")));
}

TEST(TextureDictionaryTest, BadDictionariesAreClearErrors) {
  Fixture f = MakeFixture();
  const std::string dir = TempDir("bad");
  ASSERT_THAT(BuildTextureDictionary(dir, *f.vgg, "VGG[test]", "w", *f.data, Config()).status(), IsOk());
  EXPECT_THAT(TextureDictionary::Open(TempDir("none"), 2, 1, 8).status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no texture dictionary here")));
  EXPECT_THAT(TextureDictionary::Open(dir, 10, 1, 8).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("num_classes 2, the victim's is 10")));
  EXPECT_THAT(TextureDictionary::Open(dir, 2, 1, 28).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("texture_size 8, the victim's is 28")));
  EXPECT_THAT(TextureDictionary::Open(dir, 2, 3, 8).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("channels 1")));
  // A damaged byte: the SHA-256 check on read.
  const std::string file = dir + "/class_0.f32";
  auto bytes = ReadFileToString(file);
  ASSERT_THAT(bytes.status(), IsOk());
  std::string damaged = *bytes;
  damaged[5] ^= 1;
  ASSERT_THAT(WriteFileAtomically(file, damaged), IsOk());
  auto dict = TextureDictionary::Open(dir, 2, 1, 8);
  ASSERT_THAT(dict.status(), IsOk());
  EXPECT_THAT(dict->Textures(0).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("differs from the manifest")));
  // Truncated, then missing.
  ASSERT_THAT(WriteFileAtomically(file, bytes->substr(0, 100)), IsOk());
  EXPECT_THAT(TextureDictionary::Open(dir, 2, 1, 8).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("100 bytes, expected 512")));
  ASSERT_EQ(unlink(file.c_str()), 0);
  EXPECT_THAT(TextureDictionary::Open(dir, 2, 1, 8).status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("class 0's textures are missing")));
}

TEST(TextureDictionaryTest, TooFewImagesAndBadConfigsAreClearErrors) {
  Fixture f = MakeFixture();
  proto::TextureDictionaryConfig many = Config();
  many.set_textures_per_class(9);  // 8 images per class
  EXPECT_THAT(BuildTextureDictionary(TempDir("few"), *f.vgg, "VGG[test]", "w", *f.data, many).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("fewer than textures_per_class 9")));
  proto::TextureDictionaryConfig bad = Config();
  bad.set_cam_threshold(1.5);
  EXPECT_THAT(ValidateTextureDictionaryConfig(bad, "dictionary", 2).message(),
              HasSubstr("dictionary.cam_threshold: must be in (0, 1], got 1.5"));
  bad = Config();
  bad.add_classes(2);
  EXPECT_THAT(ValidateTextureDictionaryConfig(bad, "dictionary", 2).message(),
              HasSubstr("dictionary.classes[0]: 2 outside [0, 2)"));
  // A feature network for another class count.
  auto other = std::make_shared<InMemoryDataset>(f.data->images(), f.data->labels(), 3);
  EXPECT_THAT(BuildTextureDictionary(TempDir("k3"), *f.vgg, "VGG[test]", "w", *other, Config()).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("2 classes, the data has 3")));
}

}  // namespace
}  // namespace robustness
