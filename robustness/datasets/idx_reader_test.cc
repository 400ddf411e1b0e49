#include "robustness/datasets/idx_reader.h"

#include <zlib.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/status_matchers.h"

namespace robustness {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr char kFashionMnist[] = "/usr/share/datasets/fashion-mnist/";

// An IDX file: big-endian `magic` and `dims`, then `payload`.
std::string Idx(uint32_t magic, const std::vector<uint32_t>& dims, const std::string& payload) {
  std::string bytes;
  auto put = [&bytes](uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<char>(v >> shift));
  };
  put(magic);
  for (uint32_t d : dims) put(d);
  return bytes + payload;
}

std::string WritePlain(const std::string& name, const std::string& bytes) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

std::string WriteGzip(const std::string& name, const std::string& bytes) {
  const std::string path = ::testing::TempDir() + "/" + name;
  gzFile file = gzopen(path.c_str(), "wb");
  gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(file);
  return path;
}

proto::IdxSource Source(const std::string& images, const std::string& labels, int num_classes) {
  proto::IdxSource source;
  source.set_images_path(images);
  source.set_labels_path(labels);
  source.set_num_classes(num_classes);
  return source;
}

TEST(ReadIdxDataset, ReadsGzipAndPlainFiles) {
  const std::string images =
      WriteGzip("ok-images.gz", Idx(0x803, {2, 1, 3}, std::string("\x00\x7f\xff\x01\x02\x03", 6)));
  const std::string labels = WritePlain("ok-labels", Idx(0x801, {2}, std::string("\x02\x00", 2)));
  absl::StatusOr<InMemoryDataset> ds = ReadIdxDataset(Source(images, labels, 3));
  ASSERT_THAT(ds, IsOk());
  ASSERT_EQ(ds->images().sizes(), at::IntArrayRef({2, 1, 1, 3}));
  EXPECT_EQ(ds->images()[0][0][0][2].item<int>(), 255);
  EXPECT_EQ(ds->Label(0), 2);
  EXPECT_EQ(ds->Label(1), 0);
}

TEST(ReadIdxDataset, ReadsRealFashionMnistTestSet) {
  const std::string dir = kFashionMnist;
  absl::StatusOr<InMemoryDataset> ds = ReadIdxDataset(
      Source(dir + "t10k-images-idx3-ubyte.gz", dir + "t10k-labels-idx1-ubyte.gz", 10));
  ASSERT_THAT(ds, IsOk());
  EXPECT_EQ(ds->images().sizes(), at::IntArrayRef({10000, 1, 28, 28}));
  EXPECT_EQ(ds->num_classes(), 10);
  at::Tensor counts = at::bincount(ds->labels());
  EXPECT_TRUE(at::equal(counts, at::full({10}, 1000, at::kLong)));
}

TEST(ReadIdxDataset, MissingDatasetFileSaysHowToInstall) {
  const std::string dir = kFashionMnist;
  EXPECT_THAT(
      ReadIdxDataset(Source(dir + "missing-images.gz", dir + "t10k-labels-idx1-ubyte.gz", 10)),
      StatusIs(absl::StatusCode::kNotFound,
               AllOf(HasSubstr("missing-images.gz"), HasSubstr("tools/setup.sh"),
                     HasSubstr("dataset-fashion-mnist"))));
}

TEST(ReadIdxDataset, RejectsWrongMagic) {
  const std::string labels = WritePlain("magic-labels", Idx(0x801, {1}, std::string(1, '\0')));
  const std::string images = WritePlain("magic-images", Idx(0x801, {1}, std::string(1, '\0')));
  EXPECT_THAT(ReadIdxDataset(Source(images, labels, 10)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("magic-images"), HasSubstr("0x00000801"),
                             HasSubstr("expected 0x00000803"))));
}

TEST(ReadIdxDataset, RejectsTruncatedPayload) {
  const std::string images = WritePlain("short-images", Idx(0x803, {2, 2, 2}, "\x01\x02\x03"));
  const std::string labels = WritePlain("short-labels", Idx(0x801, {2}, std::string(2, '\0')));
  EXPECT_THAT(
      ReadIdxDataset(Source(images, labels, 10)),
      StatusIs(absl::StatusCode::kDataLoss,
               AllOf(HasSubstr("short-images"), HasSubstr("24 bytes"), HasSubstr("has 19"))));
}

TEST(ReadIdxDataset, RejectsCountMismatch) {
  const std::string images = WritePlain("count-images", Idx(0x803, {2, 1, 1}, "\x01\x02"));
  const std::string labels = WritePlain("count-labels", Idx(0x801, {3}, std::string(3, '\0')));
  EXPECT_THAT(ReadIdxDataset(Source(images, labels, 10)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("2 images"), HasSubstr("3 labels"))));
}

TEST(ReadIdxDataset, RejectsLabelOutOfRange) {
  const std::string images = WritePlain("range-images", Idx(0x803, {2, 1, 1}, "\x01\x02"));
  const std::string labels =
      WritePlain("range-labels", Idx(0x801, {2}, std::string("\x01\x07", 2)));
  EXPECT_THAT(ReadIdxDataset(Source(images, labels, 5)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("range-labels"), HasSubstr("label 7 at index 1"))));
}

}  // namespace
}  // namespace robustness
