#include "robustness/augmentation/transform_factory.h"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/status_matchers.h"
#include "robustness/config/parse_text_proto.h"
#include "robustness/datasets/batch_loader.h"
#include "robustness/datasets/image_codec.h"
#include "robustness/datasets/image_folder.h"

namespace robustness {
namespace {

using ::testing::HasSubstr;

proto::TrainTransformConfig Train(const std::string& text) {
  return ParseTextProtoOrDie<proto::TrainTransformConfig>(text);
}

proto::EvalTransformConfig Eval(const std::string& text) {
  return ParseTextProtoOrDie<proto::EvalTransformConfig>(text);
}

constexpr char kImageNetTrain[] = R"pb(
  random_resized_crop { size: 8 scale_min: 0.08 scale_max: 1 ratio_min: 0.75 ratio_max: 1.333 }
  horizontal_flip: true
  no_color {}
  no_erasing {}
)pb";

TEST(ValidateTrainTransform, AcceptsPaperRecipes) {
  EXPECT_THAT(ValidateTrainTransform(Train("pad_crop { padding: 4 } horizontal_flip: true no_color {} no_erasing {}"), 28),
              IsOk());
  EXPECT_THAT(ValidateTrainTransform(Train(kImageNetTrain), 8), IsOk());
}

TEST(ValidateTrainTransform, ErrorsNameFieldAndValue) {
  auto invalid = [](const std::string& text, int size) {
    return ValidateTrainTransform(Train(text), size);
  };
  EXPECT_THAT(invalid("pad_crop { padding: -2 } horizontal_flip: true no_color {} no_erasing {}", 28),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("augmentation.pad_crop.padding: must be >= 0, got -2")));
  EXPECT_THAT(invalid("pad_crop { padding: 28 } horizontal_flip: true no_color {} no_erasing {}", 28),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("image size 28, got 28")));
  EXPECT_THAT(invalid("horizontal_flip: true no_color {} no_erasing {}", 28),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("augmentation.crop")));
  EXPECT_THAT(invalid("pad_crop { padding: 1 } no_color {} no_erasing {}", 28),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("horizontal_flip")));
  EXPECT_THAT(invalid(kImageNetTrain, 224),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("random_resized_crop.size")));
  EXPECT_THAT(invalid(R"pb(random_resized_crop {
                             size: 8
                             scale_min: 0.9
                             scale_max: 0.5
                             ratio_min: 1
                             ratio_max: 1
                           }
                           horizontal_flip: false no_color {} no_erasing {})pb",
                      8),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("scale_min: must be <= scale_max 0.5, got 0.9")));
}

TEST(CreateTrainTransform, SameSeedSameImageAndShapes) {
  absl::StatusOr<ImageTransform> rrc = CreateTrainTransform(Train(kImageNetTrain));
  absl::StatusOr<ImageTransform> pad =
      CreateTrainTransform(Train("pad_crop { padding: 2 } horizontal_flip: true no_color {} no_erasing {}"));
  ASSERT_THAT(rrc, IsOk());
  ASSERT_THAT(pad, IsOk());
  at::manual_seed(0);
  at::Tensor image = at::rand({3, 12, 10});
  EXPECT_EQ((*rrc)(image, 5).sizes(), at::IntArrayRef({3, 8, 8}));
  EXPECT_EQ((*pad)(image, 5).sizes(), image.sizes());
  EXPECT_TRUE(at::equal((*rrc)(image, 5), (*rrc)(image, 5)));
  EXPECT_TRUE(at::equal((*pad)(image, 9), (*pad)(image, 9)));
}

constexpr char kDeitPipeline[] = R"pb(
  random_resized_crop { size: 8 scale_min: 0.08 scale_max: 1 ratio_min: 0.75 ratio_max: 1.333 }
  horizontal_flip: true
  rand_augment { spec: "rand-m9-mstd0.5-inc1" interpolation: BICUBIC fill: [124, 116, 104] }
  random_erasing {
    probability: 0.25 area_min: 0.02 area_max: 0.3333 aspect_min: 0.3 aspect_max: 3.3333
    mode: PIXEL min_count: 1 max_count: 1
  }
)pb";

TEST(ValidateTrainTransform, ColourAndErasingErrorsNameFieldAndValue) {
  const std::string crop = "pad_crop { padding: 2 } horizontal_flip: true ";
  const std::pair<std::string, std::string> bad[] = {
      {crop + "no_erasing {}", "augmentation.color: set one of no_color {}"},
      {crop + "no_color {}", "augmentation.erasing: set one of no_erasing {}"},
      {crop + "no_erasing {} rand_augment { spec: \"rand-m9-mmax10\" interpolation: BICUBIC "
              "fill: 128 }",
       "augmentation.rand_augment.spec: RandAugment string \"rand-m9-mmax10\": token \"mmax10\""},
      {crop + "no_erasing {} rand_augment { spec: \"rand-m9\" fill: 128 }",
       "augmentation.rand_augment.interpolation: must be set"},
      {crop + "no_erasing {} rand_augment { spec: \"rand-m9\" interpolation: BILINEAR fill: 300 }",
       "augmentation.rand_augment.fill[0]: must be in [0, 255], got 300"},
      {crop + "no_erasing {} color_jitter { brightness: 1.5 contrast: 0.4 saturation: 0.4 }",
       "augmentation.color_jitter.brightness: must be in [0, 1], got 1.5"},
      {crop + "no_color {} random_erasing { probability: -0.1 }",
       "augmentation.random_erasing.probability: must be in [0, 1], got -0.1"},
      {crop + "no_color {} random_erasing { probability: 0.5 area_min: 0.5 area_max: 0.2 "
              "aspect_min: 0.3 aspect_max: 3 mode: CONST min_count: 1 max_count: 1 }",
       "area_min 0.5, area_max 0.2"},
      {crop + "no_color {} random_erasing { probability: 0.5 area_min: 0.02 area_max: 0.3 "
              "aspect_min: 0.3 aspect_max: 3 min_count: 1 max_count: 1 }",
       "augmentation.random_erasing.mode: must be set"},
      {crop + "no_color {} random_erasing { probability: 0.5 area_min: 0.02 area_max: 0.3 "
              "aspect_min: 0.3 aspect_max: 3 mode: RAND min_count: 2 max_count: 1 }",
       "min_count 2, max_count 1"},
  };
  for (const auto& [text, message] : bad) {
    EXPECT_THAT(ValidateTrainTransform(Train(text), 28),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(message)))
        << text;
  }
  EXPECT_THAT(ValidateTrainTransform(Train(kDeitPipeline), 8, 1),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("one value per image channel (1), got 3")));
  EXPECT_THAT(CreateTrainTransform(Train(kDeitPipeline)).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("needs the model's normalisation mean and std")));
}

TEST(CreateTrainTransform, FullDeitPipelineIsDeterministicAndKeepsCropAndFlipStreams) {
  const std::vector<float> mean = {0.485f, 0.456f, 0.406f}, std = {0.229f, 0.224f, 0.225f};
  absl::StatusOr<ImageTransform> deit = CreateTrainTransform(Train(kDeitPipeline), mean, std);
  absl::StatusOr<ImageTransform> plain = CreateTrainTransform(Train(kImageNetTrain));
  ASSERT_THAT(deit, IsOk());
  ASSERT_THAT(plain, IsOk());
  at::manual_seed(0);
  const at::Tensor image = at::rand({3, 12, 10});
  int differ = 0;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    const at::Tensor a = (*deit)(image, seed);
    EXPECT_EQ(a.sizes(), at::IntArrayRef({3, 8, 8}));
    EXPECT_TRUE(at::equal(a, (*deit)(image, seed)));
    differ += !at::equal(a, (*plain)(image, seed));
  }
  // RandAugment leaves about 1/4 of images alone and erasing 3/4 of those: most differ, not all.
  EXPECT_GT(differ, 20);
  EXPECT_LT(differ, 40);
}

// The batch loader runs RandomResizedCrop pipelines crop-first: an ImageFolder decodes only each
// sampled box. Its batches must equal those of the same transform on the fully decoded images
// (an in-memory dataset of DecodeImageFile's tensors, which goes through the float path).
TEST(CreateTrainTransform, CropFirstLoaderOnJpegFilesEqualsTheFloatPath) {
  const std::string root = ::testing::TempDir() + "/crop_first";
  std::filesystem::create_directories(root + "/a");
  std::filesystem::create_directories(root + "/b");
  at::manual_seed(5);
  std::vector<at::Tensor> decoded;
  for (int i = 0; i < 6; ++i) {
    const int64_t h = 40 + 7 * i, w = 64 - 5 * i;  // sizes that are not iMCU multiples
    const at::Tensor image =
        (at::rand({3, h, w}) * 0.5 + at::linspace(0, 0.5, w).view({1, 1, w})).clamp(0, 1);
    const std::string path = root + (i < 3 ? "/a/" : "/b/") + std::to_string(i) + ".jpg";
    ASSERT_THAT(WriteJpeg(path, image, 90), IsOk());
    absl::StatusOr<at::Tensor> back = DecodeImageFile(path);
    ASSERT_THAT(back, IsOk());
    decoded.push_back(*back);
  }
  proto::ImageFolderSource source;
  source.set_root(root);
  source.set_num_classes(2);
  absl::StatusOr<std::unique_ptr<ImageFolderDataset>> folder = ImageFolderDataset::Open(source);
  ASSERT_THAT(folder, IsOk());
  std::shared_ptr<const Dataset> files = std::move(*folder);
  const std::string text = R"pb(
    random_resized_crop { size: 16 scale_min: 0.08 scale_max: 1 ratio_min: 0.75
                          ratio_max: 1.3333333333333333 }
    horizontal_flip: true
    rand_augment { spec: "rand-m9-mstd0.5-inc1" interpolation: BICUBIC fill: [124, 116, 104] }
    no_erasing {}
  )pb";
  absl::StatusOr<ImageTransform> transform = CreateTrainTransform(Train(text));
  ASSERT_THAT(transform, IsOk());
  ASSERT_TRUE(transform->crop_first());
  const std::vector<int64_t> order = {0, 1, 2, 3, 4, 5};
  BatchLoader from_files(files, order, 3, *transform, 11, 1, false);
  for (int64_t b = 0; b < 2; ++b) {
    absl::StatusOr<Batch> batch = from_files.Next();
    ASSERT_THAT(batch, IsOk());
    for (int64_t i = 0; i < 3; ++i) {
      const int64_t index = b * 3 + i;
      // The float path on the whole decoded image with the loader's seed for this image.
      const at::Tensor expected = (*transform)(decoded[index], ImageSeed(11, index));
      EXPECT_TRUE(at::equal(batch->images[i], expected)) << "image " << index;
    }
  }
}

TEST(EvalTransform, ValidatesAndBuilds) {
  EXPECT_THAT(
      CreateEvalTransform(Eval("resize_shorter: 8 center_crop: 9")),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("eval_transform.center_crop: must be <= resize_shorter 8, got 9")));
  EXPECT_THAT(ValidateEvalTransform(Eval("resize_shorter: -1 center_crop: 0")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("resize_shorter")));
  absl::StatusOr<ImageTransform> identity =
      CreateEvalTransform(Eval("resize_shorter: 0 center_crop: 0"));
  absl::StatusOr<ImageTransform> imagenet =
      CreateEvalTransform(Eval("resize_shorter: 8 center_crop: 7"));
  ASSERT_THAT(identity, IsOk());
  ASSERT_THAT(imagenet, IsOk());
  at::Tensor image = at::rand({3, 12, 16});
  EXPECT_TRUE(at::equal((*identity)(image, 1), image));
  EXPECT_EQ((*imagenet)(image, 1).sizes(), at::IntArrayRef({3, 7, 7}));
}

}  // namespace
}  // namespace robustness
