#include "robustness/datasets/dataset_factory.h"

#include <memory>
#include <string>

#include <ATen/ATen.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/status_matchers.h"
#include "robustness/config/parse_text_proto.h"

namespace robustness {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr char kFashionMnistTest[] = R"pb(
  idx {
    images_path: "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"
    labels_path: "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz"
    num_classes: 10
  }
)pb";

proto::DatasetConfig Config(const std::string& extra) {
  return ParseTextProtoOrDie<proto::DatasetConfig>(std::string(kFashionMnistTest) + extra);
}

TEST(ValidateDatasetConfig, AcceptsACompleteConfig) {
  EXPECT_THAT(ValidateDatasetConfig(Config("subset_size: 0")), IsOk());
  EXPECT_THAT(ValidateDatasetConfig(Config("subset_size: 5 subset_seed: 1")), IsOk());
}

TEST(ValidateDatasetConfig, ErrorsNameTheField) {
  proto::DatasetConfig config = Config("subset_size: 0");
  config.mutable_idx()->set_num_classes(0);
  EXPECT_THAT(ValidateDatasetConfig(config),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("dataset.idx.num_classes: must be >= 1, got 0")));
  EXPECT_THAT(ValidateDatasetConfig(Config("subset_size: -2")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("dataset.subset_size: must be >= 0, got -2")));
  EXPECT_THAT(ValidateDatasetConfig(Config("subset_size: 3")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("dataset.subset_seed")));
  EXPECT_THAT(ValidateDatasetConfig(ParseTextProtoOrDie<proto::DatasetConfig>(
                  R"pb(image_folder { root: "" num_classes: 3 }
                       subset_size: 0)pb")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("dataset.image_folder.root")));
  EXPECT_THAT(ValidateDatasetConfig(proto::DatasetConfig()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("dataset.source")));
}

TEST(CreateDataset, LoadsFashionMnistAndAppliesTheSubset) {
  absl::StatusOr<std::shared_ptr<const Dataset>> subset =
      CreateDataset(Config("subset_size: 100 subset_seed: 7"));
  ASSERT_THAT(subset, IsOk());
  EXPECT_EQ((*subset)->size(), 100);
  EXPECT_EQ((*subset)->num_classes(), 10);
  absl::StatusOr<at::Tensor> image = (*subset)->Image(99);
  ASSERT_THAT(image, IsOk());
  EXPECT_EQ(image->sizes(), at::IntArrayRef({1, 28, 28}));
  absl::StatusOr<std::shared_ptr<const Dataset>> again =
      CreateDataset(Config("subset_size: 100 subset_seed: 7"));
  ASSERT_THAT(again, IsOk());
  EXPECT_TRUE(at::equal(*(*again)->Image(42), *(*subset)->Image(42)));
}

TEST(CreateDataset, RejectsSubsetLargerThanTheDataset) {
  EXPECT_THAT(CreateDataset(Config("subset_size: 20000 subset_seed: 1")),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("dataset.subset_size: 20000"), HasSubstr("10000"))));
}

}  // namespace
}  // namespace robustness
