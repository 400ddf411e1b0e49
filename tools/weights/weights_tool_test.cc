#include "tools/weights/weights_tool.h"

#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "robustness/base/atomic_file.h"
#include "robustness/base/status_matchers.h"
#include "robustness/training/checkpoint.h"
#include "robustness/weights/module_state_dict.h"
#include "robustness/weights/state_dict_io.h"

namespace robustness {
namespace tools {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

std::string TempPath(const std::string& name) { return ::testing::TempDir() + "/" + name; }

// A small ResNet (38 state-dict entries) with the adversarial-training normalisation.
std::string ResNetConfig(int base_width) {
  return absl::StrCat(R"pb(
                        num_classes: 10
                        in_channels: 3
                        image_size: 16
                        normalization {
                          mean: [ 0.5, 0.5, 0.5 ]
                          std: [ 0.5, 0.5, 0.5 ]
                        }
                        resnet { block: BASIC
                                 stage_depths: [ 1, 1 ]
                                 base_width:)pb",
                      base_width, R"pb(
      stem: SMALL
      activation: RELU
      batch_norm {}
    }
  )pb");
}

std::string WriteConfig(const std::string& name, const std::string& text) {
  const std::string path = TempPath(name);
  EXPECT_THAT(WriteFileAtomically(path, text), IsOk());
  return path;
}

// Builds the model of `config_path`, trains one SGD step and saves a training checkpoint.
std::string WriteCheckpoint(const std::string& config_path, ImageClassifier* trained) {
  absl::StatusOr<ImageClassifier> model = BuildModelFromConfigFile(config_path);
  EXPECT_THAT(model, IsOk());
  torch::optim::SGD optimizer((*model)->parameters(), torch::optim::SGDOptions(0.1));
  torch::nn::functional::cross_entropy((*model)->forward(torch::rand({4, 3, 16, 16})),
                                       torch::tensor({0, 1, 2, 3}))
      .backward();
  optimizer.step();
  const std::string path = TempPath("trained.pt");
  CheckpointState state;
  state.fingerprint = "f";
  EXPECT_THAT(SaveCheckpoint(path, **model, optimizer, state), IsOk());
  *trained = *model;
  return path;
}

TEST(RunInspect, ListsKeysDtypesShapesAndUnwrapping) {
  std::ostringstream out;
  ASSERT_THAT(RunInspect("robustness/weights/testdata/tiny_deit_checkpoint.pth", "", out), IsOk());
  EXPECT_THAT(out.str(), AllOf(HasSubstr("content: state dict under 'model' (ignored: optimizer, "
                                         "lr_scheduler, epoch, model_ema, scaler, args)"),
                               HasSubstr("9 tensors, 139 values, 0.6 kB"),
                               HasSubstr("  conv.weight             float32   [4, 3, 3, 3]"),
                               HasSubstr("  bn.num_batches_tracked  int64     []")));
}

TEST(RunCheck, AcceptsMatchingWeights) {
  const std::string config = WriteConfig("ok.pbtxt", ResNetConfig(8));
  absl::StatusOr<ImageClassifier> model = BuildModelFromConfigFile(config);
  ASSERT_THAT(model, IsOk());
  ASSERT_THAT(ExportWeightsFile(**model, TempPath("ok.pth")), IsOk());
  std::ostringstream out;
  EXPECT_THAT(RunCheck(config, TempPath("ok.pth"), "", "", out), IsOk());
  EXPECT_THAT(out.str(),
              AllOf(HasSubstr("ResNet[basic 1-1, w8, small stem, relu]"),
                    HasSubstr("OK: loads strictly (38 tensors)"),
                    HasSubstr("normalisation from the config"), HasSubstr("mean [0.5, 0.5, 0.5]")));
}

TEST(RunCheck, PrintsTheFullMismatchList) {
  absl::StatusOr<ImageClassifier> wide =
      BuildModelFromConfigFile(WriteConfig("wide.pbtxt", ResNetConfig(16)));
  ASSERT_THAT(wide, IsOk());
  ASSERT_THAT(ExportWeightsFile(**wide, TempPath("wide.pth")), IsOk());
  std::ostringstream out;
  EXPECT_THAT(
      RunCheck(WriteConfig("narrow.pbtxt", ResNetConfig(8)), TempPath("wide.pth"), "", "", out),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("problems (listed above)")));
  // Every tensor but fc.bias and the 6 BN counters has a width-dependent shape: 31, all listed
  // (a Status message shows 10).
  EXPECT_THAT(out.str(),
              AllOf(HasSubstr("MISMATCH: 31 problems"), HasSubstr("31 wrong-shaped keys:"),
                    HasSubstr("conv1.weight: file [16, 3, 3, 3], model [8, 3, 3, 3]"),
                    HasSubstr("fc.weight: file [10, 32], model [10, 16]"), Not(HasSubstr("more"))));
}

TEST(RunCheck, ChecksTrainingCheckpointsToo) {
  ImageClassifier trained;
  const std::string checkpoint =
      WriteCheckpoint(WriteConfig("ckpt.pbtxt", ResNetConfig(8)), &trained);
  std::ostringstream out;
  EXPECT_THAT(RunCheck(WriteConfig("ckpt16.pbtxt", ResNetConfig(16)), "", checkpoint, "", out),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("31 problems")));
  EXPECT_THAT(out.str(), AllOf(HasSubstr("training checkpoint"),
                               HasSubstr("fc.weight: file [10, 16], model [10, 32]")));
  EXPECT_THAT(RunCheck(WriteConfig("ckpt8.pbtxt", ResNetConfig(8)), "", checkpoint, "", out),
              IsOk());
  EXPECT_THAT(out.str(), HasSubstr("in the file, equal to the config's"));
}

TEST(RunExport, WritesTheCheckpointsModelForPython) {
  const std::string config = WriteConfig("export.pbtxt", ResNetConfig(8));
  ImageClassifier trained;
  const std::string checkpoint = WriteCheckpoint(config, &trained);
  std::ostringstream out;
  ASSERT_THAT(RunExport(config, checkpoint, TempPath("export.pth"), out), IsOk());
  EXPECT_THAT(out.str(), AllOf(HasSubstr("38 tensors"), HasSubstr("mean [0.5, 0.5, 0.5]")));
  absl::StatusOr<StateDictFile> file = ReadStateDictFile(TempPath("export.pth"));
  ASSERT_THAT(file, IsOk());
  const StateDict expected = ModuleStateDict(*trained);
  ASSERT_EQ(file->tensors.keys(), expected.keys());
  for (const auto& item : expected) {
    EXPECT_TRUE(torch::equal(file->tensors[item.key()], item.value())) << item.key();
  }
}

TEST(RunExport, RefusesAConfigThatDoesNotMatchTheCheckpoint) {
  ImageClassifier trained;
  const std::string checkpoint =
      WriteCheckpoint(WriteConfig("trained.pbtxt", ResNetConfig(8)), &trained);
  std::string imagenet = ResNetConfig(8);
  imagenet.replace(imagenet.find("mean: [ 0.5, 0.5, 0.5 ]"), 23, "mean: [ 0.485, 0.456, 0.406 ]");
  std::ostringstream out;
  EXPECT_THAT(
      RunExport(WriteConfig("imagenet.pbtxt", imagenet), checkpoint, TempPath("never.pth"), out),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("normalize.mean: file [0.5, 0.5, 0.5], "
                         "model [0.485, 0.456, 0.406]")));
  EXPECT_THAT(RunExport(WriteConfig("wide16.pbtxt", ResNetConfig(16)), checkpoint,
                        TempPath("never.pth"), out),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("wrong-shaped keys"), HasSubstr("the full list: check"))));
  EXPECT_THAT(ReadStateDictFile(TempPath("never.pth")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("never.pth")));
}

TEST(BuildModelFromConfigFile, RequiresEveryField) {
  std::string config = ResNetConfig(8);
  config.replace(config.find("activation: RELU"), 16, "");
  EXPECT_THAT(BuildModelFromConfigFile(WriteConfig("incomplete.pbtxt", config)),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("incomplete.pbtxt"), HasSubstr("resnet.activation"))));
}

}  // namespace
}  // namespace tools
}  // namespace robustness
