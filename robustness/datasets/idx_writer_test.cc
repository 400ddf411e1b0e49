#include "robustness/datasets/idx_writer.h"

#include <filesystem>

#include "gtest/gtest.h"
#include "robustness/base/status_matchers.h"
#include "robustness/datasets/idx_reader.h"

namespace robustness {
namespace {

TEST(IdxWriter, RoundTripsThroughTheReader) {
  const std::string dir = testing::TempDir();
  const torch::Tensor images =
      torch::arange(0, 2 * 9 * 8, torch::kLong).remainder(256).to(torch::kUInt8).view({2, 1, 9, 8});
  const torch::Tensor labels = torch::tensor({3, 7}, torch::kLong);
  ASSERT_THAT(WriteIdxImages(dir + "/im.gz", images), IsOk());
  ASSERT_THAT(WriteIdxLabels(dir + "/lb.gz", labels), IsOk());
  proto::IdxSource source;
  source.set_images_path(dir + "/im.gz");
  source.set_labels_path(dir + "/lb.gz");
  source.set_num_classes(10);
  absl::StatusOr<InMemoryDataset> read = ReadIdxDataset(source);
  ASSERT_THAT(read.status(), IsOk());
  EXPECT_TRUE(read->images().equal(images));
  EXPECT_TRUE(read->labels().equal(labels));
}

TEST(IdxWriter, UnwritablePathIsAnError) {
  const torch::Tensor images = torch::zeros({1, 1, 2, 2}, torch::kUInt8);
  const absl::Status status = WriteIdxImages("/nonexistent-dir/x.gz", images);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(std::string(status.message()).find("/nonexistent-dir"), std::string::npos);
}

}  // namespace
}  // namespace robustness
