#include "tools/corrupt/corrupt_tool.h"

#include <filesystem>
#include <string>

#include "gtest/gtest.h"
#include "robustness/base/atomic_file.h"
#include "robustness/base/status_matchers.h"
#include "robustness/config/text_proto_file.h"
#include "robustness/datasets/idx_reader.h"
#include "robustness/datasets/idx_writer.h"
#include "robustness/datasets/image_codec.h"

namespace robustness {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string Dir(const std::string& name) {
  const std::string d = testing::TempDir() + "/" + name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// A small IDX pair of real-looking content and a config corrupting it.
std::string IdxConfig(const std::string& dir) {
  torch::Tensor images = torch::zeros({6, 1, 28, 28}, torch::kUInt8);
  for (int i = 0; i < 6; ++i) images[i][0].slice(0, 5, 23).slice(1, 8 + i, 20).fill_(180);
  CHECK(WriteIdxImages(dir + "/im.gz", images).ok());
  CHECK(WriteIdxLabels(dir + "/lb.gz", torch::arange(6, torch::kLong)).ok());
  const std::string config = dir + "/c.pbtxt";
  CHECK(WriteFileAtomically(config, absl::StrCat(R"(
corruption { severity_table: CIFAR10_C
  no_frost {} }
idx { images_path: ")", dir, R"(/im.gz" labels_path: ")", dir, R"(/lb.gz" num_classes: 10 }
list { names: ["gaussian_noise", "zoom_blur"] }
severities: [1, 5]
seed: 3
threads: 2
output_format: IDX_GZ
on_unreadable: FAIL
max_images: 0
)")).ok());
  return config;
}

TEST(CorruptTool, IdxRunResumesAfterAnInterruptionWithTheSameBytes) {
  const std::string dir = Dir("idx");
  CorruptToolOptions options{IdxConfig(dir), "", dir + "/out"};
  auto first = RunCorruptTool(options);
  ASSERT_THAT(first.status(), IsOk());
  EXPECT_EQ(first->pairs, 4);
  EXPECT_EQ(first->files_written, 8);
  const std::string target = dir + "/out/zoom_blur/5/images-idx3-ubyte.gz";
  const std::string before = *ReadFileToString(target);
  fs::remove(target);  // as if killed before this pair was written
  auto second = RunCorruptTool(options);
  ASSERT_THAT(second.status(), IsOk());
  EXPECT_EQ(second->files_resumed, 6);
  EXPECT_EQ(second->files_written, 2);
  EXPECT_EQ(*ReadFileToString(target), before);
  proto::IdxSource source;
  source.set_images_path(target);
  source.set_labels_path(dir + "/out/zoom_blur/5/labels-idx1-ubyte.gz");
  source.set_num_classes(10);
  auto read = ReadIdxDataset(source);
  ASSERT_THAT(read.status(), IsOk());
  EXPECT_EQ(read->size(), 6);
  EXPECT_TRUE(fs::exists(dir + "/out/provenance.pbtxt"));
  EXPECT_TRUE(fs::exists(dir + "/out/summary.md"));
}

TEST(CorruptTool, UnreadableImagesFailOrAreSkippedAndListed) {
  const std::string dir = Dir("folder");
  for (const char* cls : {"a", "b"}) {
    fs::create_directories(absl::StrCat(dir, "/in/", cls));
    ASSERT_THAT(WritePng(absl::StrCat(dir, "/in/", cls, "/x.png"), torch::rand({3, 32, 32})),
                IsOk());
  }
  ASSERT_THAT(WriteFileAtomically(dir + "/in/b/broken.png", "not a png"), IsOk());
  const std::string config = dir + "/c.pbtxt";
  ASSERT_THAT(WriteFileAtomically(config, absl::StrCat(R"(
corruption { severity_table: IMAGECORRUPTIONS
  no_frost {} }
image_folder { root: ")", dir, R"(/in" num_classes: 2 }
list { names: ["contrast"] }
severities: [2]
seed: 0 threads: 2 output_format: PNG_FOLDER on_unreadable: FAIL max_images: 0
)")), IsOk());
  auto failed = RunCorruptTool({config, "", dir + "/out_fail"});
  EXPECT_THAT(failed.status(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("broken.png")));
  auto skipped = RunCorruptTool({config, "on_unreadable: SKIP", dir + "/out_skip"});
  ASSERT_THAT(skipped.status(), IsOk());
  ASSERT_EQ(skipped->skipped.size(), 1u);
  EXPECT_THAT(skipped->skipped[0], HasSubstr("broken.png"));
  EXPECT_TRUE(fs::exists(dir + "/out_skip/contrast/2/a/x.png"));
  EXPECT_TRUE(fs::exists(dir + "/out_skip/contrast/2/b/x.png"));
  EXPECT_THAT(*ReadFileToString(dir + "/out_skip/skipped.txt"), HasSubstr("broken.png"));
}

TEST(CorruptTool, BadConfigsNameFileLineAndField) {
  const std::string dir = Dir("bad");
  const std::string config = IdxConfig(dir);
  EXPECT_THAT(RunCorruptTool({config, "severities: [0]", dir + "/o"}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       testing::AllOf(HasSubstr("severities[0]"), HasSubstr("got 0"))));
  EXPECT_THAT(RunCorruptTool({config, "list { names: [\"fogg\"] }", dir + "/o"}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       testing::AllOf(HasSubstr("list.names[0]"), HasSubstr("'fogg'"))));
  EXPECT_THAT(RunCorruptTool({config, "output_format: PNG_FOLDER", dir + "/o"}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("output_format")));
  EXPECT_THAT(RunCorruptTool({config, "list { names: [\"frost\"] }", dir + "/o"}).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("frost")));
}

TEST(CorruptTool, CheckedInConfigsAreCompleteAndValid) {
  for (const char* path : {"tools/corrupt/fashion_mnist_c.pbtxt", "tools/corrupt/imagenet_c.pbtxt"}) {
    tools::CorruptConfig config;
    ASSERT_THAT(ReadTextProtoFile(path, &config), IsOk()) << path;
    EXPECT_THAT(ValidateCorruptConfig(config), IsOk()) << path;
  }
}

}  // namespace
}  // namespace robustness
