#include "robustness/weights/module_state_dict.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "absl/strings/match.h"
#include "robustness/base/status_matchers.h"
#include "robustness/models/deit.h"
#include "robustness/models/normalize.h"
#include "robustness/models/resnet.h"

namespace robustness {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// Two stages of one BASIC block at width 8, small stem: 38 entries (stem 6, layer1 12, layer2 18
// with its downsample, fc 2), every kind of torchvision key.
ResNet TinyResNet(uint64_t seed) {
  torch::manual_seed(seed);
  ResNet model(ResNetOptions(10, {1, 1})
                   .block(ResNetOptions::Block::kBasic)
                   .base_width(8)
                   .stem(ResNetOptions::Stem::kSmall));
  // Non-trivial BN statistics, so that a lost or swapped buffer changes the eval-mode output.
  torch::NoGradGuard no_grad;
  for (const auto& module : model->modules(/*include_self=*/false)) {
    if (auto* bn = module->as<torch::nn::BatchNorm2dImpl>()) {
      bn->weight.uniform_(0.5, 1.5);
      bn->bias.normal_(0, 0.1);
      bn->running_mean.normal_(0, 0.1);
      bn->running_var.uniform_(0.5, 2.0);
      bn->num_batches_tracked.fill_(static_cast<int64_t>(seed) + 100);
    }
  }
  model->eval();
  return model;
}

DeiT TinyDeiT(uint64_t seed) {
  torch::manual_seed(seed);
  DeiT model(DeiTOptions(10).image_size(16).patch_size(8).embed_dim(32).depth(2).num_heads(2));
  model->eval();
  return model;
}

std::string TempPath(const std::string& name) { return ::testing::TempDir() + "/" + name; }

TEST(ModuleStateDict, UsesTorchvisionNamesAndOrderWithoutNormalization) {
  ResNet model = TinyResNet(1);
  const std::vector<std::string> keys = ModuleStateDict(*model).keys();
  ASSERT_EQ(keys.size(), 38u);
  EXPECT_THAT(
      std::vector<std::string>(keys.begin(), keys.begin() + 8),
      ElementsAre("conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
                  "bn1.num_batches_tracked", "layer1.0.conv1.weight", "layer1.0.bn1.weight"));
  EXPECT_THAT(keys, Contains("layer2.0.downsample.1.running_var"));
  EXPECT_EQ(keys[36], "fc.weight");
  EXPECT_THAT(keys, Not(Contains(StartsWith("normalize."))));
  EXPECT_THAT(ModuleStateDict(*model, /*include_normalization=*/true).keys(),
              AllOf(Contains("normalize.mean"), Contains("normalize.std")));
  EXPECT_THAT(NormalizationBufferNames(*model), ElementsAre("normalize.mean", "normalize.std"));
}

TEST(ExportWeightsFile, ExportThenImportGivesIdenticalLogits) {
  const torch::Tensor images = torch::rand({2, 3, 16, 16});
  ResNet resnet = TinyResNet(1), resnet_copy = TinyResNet(2);
  DeiT deit = TinyDeiT(1), deit_copy = TinyDeiT(2);
  torch::NoGradGuard no_grad;
  ASSERT_FALSE(torch::equal(resnet->forward(images), resnet_copy->forward(images)));
  ASSERT_THAT(ExportWeightsFile(*resnet, TempPath("resnet.pth")), IsOk());
  ASSERT_THAT(LoadWeightsFile(TempPath("resnet.pth"), *resnet_copy), IsOk());
  EXPECT_TRUE(torch::equal(resnet->forward(images), resnet_copy->forward(images)));
  ASSERT_THAT(ExportWeightsFile(*deit, TempPath("deit.pth")), IsOk());
  ASSERT_THAT(LoadWeightsFile(TempPath("deit.pth"), *deit_copy), IsOk());
  EXPECT_TRUE(torch::equal(deit->forward(images), deit_copy->forward(images)));
}

TEST(ExportWeightsFile, KeepsBatchCounterInt64AndLeavesNormalizationOut) {
  ResNet model = TinyResNet(3);
  ASSERT_THAT(ExportWeightsFile(*model, TempPath("counter.pth")), IsOk());
  absl::StatusOr<StateDictFile> file = ReadStateDictFile(TempPath("counter.pth"));
  ASSERT_THAT(file, IsOk());
  EXPECT_EQ(file->tensors["bn1.num_batches_tracked"].dtype(), torch::kInt64);
  EXPECT_EQ(file->tensors["bn1.num_batches_tracked"].item<int64_t>(), 103);
  EXPECT_FALSE(file->tensors.contains("normalize.mean"));
}

TEST(LoadStateDict, ListsEveryMissingUnexpectedAndWrongShapedKey) {
  ResNet model = TinyResNet(1);
  StateDict file;
  for (const auto& item : ModuleStateDict(*model)) {
    const std::string& key = item.key();
    if (key == "fc.weight" || key == "fc.bias" || key == "layer1.0.bn2.running_var") continue;
    file.insert(
        key, key == "conv1.weight" ? torch::zeros({16, 3, 3, 3}) : torch::zeros_like(item.value()));
  }
  file.insert("head.weight", torch::zeros({10, 16}));
  file.insert("head_dist.bias", torch::zeros({10}));
  const torch::Tensor before = model->named_parameters()["layer1.0.conv1.weight"].clone();
  EXPECT_THAT(LoadStateDict(file, *model, "weights file 'x.pth'"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("weights file 'x.pth' does not fit the model (6 problems)"),
                             HasSubstr("3 missing keys (in the model, not in the file): "
                                       "layer1.0.bn2.running_var, fc.weight, fc.bias"),
                             HasSubstr("2 unexpected keys (in the file, not in the model): "
                                       "head.weight, head_dist.bias"),
                             HasSubstr("1 wrong-shaped key: conv1.weight: file [16, 3, 3, 3], "
                                       "model [8, 3, 3, 3]"))));
  // All or nothing: the loadable entries were not copied either.
  EXPECT_TRUE(torch::equal(model->named_parameters()["layer1.0.conv1.weight"], before));
}

TEST(LoadStateDict, CapsTheMessageButComparisonKeepsEveryKey) {
  ResNet model = TinyResNet(1);
  // 38 entries less the 6 num_batches_tracked, which a file may lack altogether.
  const StateDictMismatch mismatch = CompareStateDict(StateDict(), *model);
  EXPECT_EQ(mismatch.missing.size(), 32u);
  EXPECT_THAT(LoadStateDict(StateDict(), *model, "empty"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("32 missing keys"), HasSubstr("... and 22 more"),
                             Not(HasSubstr("fc.bias")))));
  EXPECT_THAT(mismatch.ToString(/*max_per_kind=*/100, "\n"), HasSubstr("fc.bias"));
}

TEST(LoadStateDict, NormalizationMayBeAbsentButMustMatchWhenPresent) {
  ResNet model = TinyResNet(1);  // ImageNet statistics
  StateDict without = ModuleStateDict(*TinyResNet(2));
  EXPECT_THAT(LoadStateDict(without, *model, "file"), IsOk());
  EXPECT_TRUE(torch::allclose(model->named_buffers()["normalize.mean"],
                              torch::tensor({0.485f, 0.456f, 0.406f}).view({1, 3, 1, 1})));

  StateDict same = ModuleStateDict(*TinyResNet(2), /*include_normalization=*/true);
  EXPECT_THAT(LoadStateDict(same, *model, "file"), IsOk());

  StateDict other = ModuleStateDict(*TinyResNet(2), /*include_normalization=*/true);
  other["normalize.mean"] = torch::full({1, 3, 1, 1}, 0.5);
  other["normalize.std"] = torch::full({1, 3, 1, 1}, 0.5);
  EXPECT_THAT(LoadStateDict(other, *model, "adv.pth"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("2 normalisation buffers differ from the model config's "
                                       "(model.normalization"),
                             HasSubstr("normalize.mean: file [0.5, 0.5, 0.5], "
                                       "model [0.485, 0.456, 0.406]"),
                             HasSubstr("normalize.std: file [0.5, 0.5, 0.5]"))));
}

TEST(LoadStateDict, AcceptsFilesWithoutAnyBatchCounterOnly) {
  ResNet model = TinyResNet(1);
  StateDict old_format, partial;
  bool dropped_one = false;
  for (const auto& item : ModuleStateDict(*TinyResNet(2))) {
    const bool counter = absl::EndsWith(item.key(), "num_batches_tracked");
    if (!counter) old_format.insert(item.key(), item.value());
    if (!counter || dropped_one) {
      partial.insert(item.key(), item.value());
    } else {
      dropped_one = true;  // bn1.num_batches_tracked
    }
  }
  EXPECT_THAT(LoadStateDict(old_format, *model, "old.pth"), IsOk());
  EXPECT_THAT(LoadStateDict(partial, *model, "partial.pth"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("1 missing key (in the model, not in the file): "
                                 "bn1.num_batches_tracked")));
}

TEST(LoadStateDict, ConvertsDtypesLikePyTorch) {
  ResNet model = TinyResNet(1), source = TinyResNet(2);
  StateDict doubles;
  for (const auto& item : ModuleStateDict(*source)) {
    doubles.insert(item.key(), item.value().is_floating_point() ? item.value().to(torch::kFloat64)
                                                                : item.value());
  }
  ASSERT_THAT(LoadStateDict(doubles, *model, "f64.pth"), IsOk());
  EXPECT_EQ(model->named_parameters()["fc.weight"].dtype(), torch::kFloat32);
  EXPECT_TRUE(torch::equal(model->named_parameters()["fc.weight"],
                           source->named_parameters()["fc.weight"]));
}

TEST(LoadWeightsFile, MissingFileIsNotFound) {
  ResNet model = TinyResNet(1);
  EXPECT_THAT(LoadWeightsFile(TempPath("absent.pth"), *model),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("absent.pth")));
}

}  // namespace
}  // namespace robustness
