#include "robustness/datasets/image_folder.h"

#include <filesystem>
#include <fstream>
#include <string>

#include <ATen/ATen.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/status_matchers.h"
#include "robustness/datasets/image_codec.h"

namespace robustness {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

namespace fs = std::filesystem;

// A fresh, empty folder under the test's temporary directory.
std::string MakeRoot(const std::string& name) {
  const std::string root = ::testing::TempDir() + "/" + name;
  fs::remove_all(root);
  fs::create_directories(root);
  return root;
}

proto::ImageFolderSource Source(const std::string& root, int num_classes) {
  proto::ImageFolderSource source;
  source.set_root(root);
  source.set_num_classes(num_classes);
  return source;
}

TEST(ImageFolderDataset, SortsClassesAndFilesAndDecodes) {
  const std::string root = MakeRoot("sorted");
  fs::create_directories(root + "/n02/");
  fs::create_directories(root + "/n01/");
  at::Tensor red = at::zeros({3, 2, 3});
  red[0].fill_(1.0);
  ASSERT_THAT(WritePng(root + "/n02/b.PNG", red), IsOk());
  ASSERT_THAT(WritePng(root + "/n02/a.png", at::full({3, 2, 3}, 51.0 / 255)), IsOk());
  ASSERT_THAT(WriteJpeg(root + "/n01/z.jpeg", at::full({3, 8, 8}, 0.5), 95), IsOk());
  std::ofstream(root + "/n01/notes.txt") << "ignored";

  absl::StatusOr<std::unique_ptr<ImageFolderDataset>> ds =
      ImageFolderDataset::Open(Source(root, 2));
  ASSERT_THAT(ds, IsOk());
  EXPECT_THAT((*ds)->class_names(), ElementsAre("n01", "n02"));
  ASSERT_EQ((*ds)->size(), 3);
  EXPECT_THAT((*ds)->path(1), HasSubstr("n02/a.png"));
  EXPECT_EQ((*ds)->Label(0), 0);
  EXPECT_EQ((*ds)->Label(2), 1);
  absl::StatusOr<at::Tensor> jpeg = (*ds)->Image(0);
  ASSERT_THAT(jpeg, IsOk());
  EXPECT_EQ(jpeg->sizes(), at::IntArrayRef({3, 8, 8}));
  EXPECT_LT((*jpeg - 0.5).abs().max().item<float>(), 0.02f);
  EXPECT_TRUE(at::allclose(*(*ds)->Image(2), red, 0, 1e-6));
}

TEST(ImageFolderDataset, CorruptImageIsDataLossNamingTheFile) {
  const std::string root = MakeRoot("corrupt");
  fs::create_directories(root + "/cat");
  std::ofstream(root + "/cat/broken.jpg") << "\xFF\xD8\xFF garbage";
  absl::StatusOr<std::unique_ptr<ImageFolderDataset>> ds =
      ImageFolderDataset::Open(Source(root, 1));
  ASSERT_THAT(ds, IsOk());
  EXPECT_THAT((*ds)->Image(0), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("cat/broken.jpg")));
}

TEST(ImageFolderDataset, RejectsBadLayouts) {
  EXPECT_THAT(ImageFolderDataset::Open(Source(::testing::TempDir() + "/absent", 1)),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("absent")));
  const std::string root = MakeRoot("layouts");
  EXPECT_THAT(ImageFolderDataset::Open(Source(root, 1)),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no class sub-folders")));
  fs::create_directories(root + "/empty_class");
  EXPECT_THAT(ImageFolderDataset::Open(Source(root, 2)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1 class folders")));
  EXPECT_THAT(ImageFolderDataset::Open(Source(root, 1)),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("empty_class")));
}

}  // namespace
}  // namespace robustness
