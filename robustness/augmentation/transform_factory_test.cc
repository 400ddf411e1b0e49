#include "robustness/augmentation/transform_factory.h"

#include <ATen/ATen.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/status_matchers.h"
#include "robustness/config/parse_text_proto.h"

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
)pb";

TEST(ValidateTrainTransform, AcceptsPaperRecipes) {
  EXPECT_THAT(ValidateTrainTransform(Train("pad_crop { padding: 4 } horizontal_flip: true"), 28),
              IsOk());
  EXPECT_THAT(ValidateTrainTransform(Train(kImageNetTrain), 8), IsOk());
}

TEST(ValidateTrainTransform, ErrorsNameFieldAndValue) {
  auto invalid = [](const std::string& text, int size) {
    return ValidateTrainTransform(Train(text), size);
  };
  EXPECT_THAT(invalid("pad_crop { padding: -2 } horizontal_flip: true", 28),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("augmentation.pad_crop.padding: must be >= 0, got -2")));
  EXPECT_THAT(invalid("pad_crop { padding: 28 } horizontal_flip: true", 28),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("image size 28, got 28")));
  EXPECT_THAT(invalid("horizontal_flip: true", 28),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("augmentation.crop")));
  EXPECT_THAT(invalid("pad_crop { padding: 1 }", 28),
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
                           horizontal_flip: false)pb",
                      8),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("scale_min: must be <= scale_max 0.5, got 0.9")));
}

TEST(CreateTrainTransform, SameSeedSameImageAndShapes) {
  absl::StatusOr<ImageTransform> rrc = CreateTrainTransform(Train(kImageNetTrain));
  absl::StatusOr<ImageTransform> pad =
      CreateTrainTransform(Train("pad_crop { padding: 2 } horizontal_flip: true"));
  ASSERT_THAT(rrc, IsOk());
  ASSERT_THAT(pad, IsOk());
  at::manual_seed(0);
  at::Tensor image = at::rand({3, 12, 10});
  EXPECT_EQ((*rrc)(image, 5).sizes(), at::IntArrayRef({3, 8, 8}));
  EXPECT_EQ((*pad)(image, 5).sizes(), image.sizes());
  EXPECT_TRUE(at::equal((*rrc)(image, 5), (*rrc)(image, 5)));
  EXPECT_TRUE(at::equal((*pad)(image, 9), (*pad)(image, 9)));
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
