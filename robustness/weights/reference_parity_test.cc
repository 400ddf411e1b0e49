// Our C++ models on weights written by Python's torch.save give the reference's logits.
//
// Fixtures (testdata/make_fixtures.py, run by genrules): torchvision resnet18 / resnet50 and a
// plain-PyTorch DeiT-Ti with timm 0.3.2's names and semantics, randomly initialised with
// randomised BatchNorm statistics, their state dicts, an input batch [2, 3, 224, 224] in [0, 1]
// and the reference's eval-mode logits on the ImageNet-normalised batch. Our models normalise
// inside forward() with the same statistics, so they take the raw batch.
#include <functional>
#include <iostream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "robustness/base/status_matchers.h"
#include "robustness/models/deit.h"
#include "robustness/models/resnet.h"
#include "robustness/weights/module_state_dict.h"
#include "robustness/weights/state_dict_io.h"

namespace robustness {
namespace {

std::string Fixture(const std::string& name) { return "robustness/weights/testdata/" + name; }

// max |ours - reference| / max |reference|, after loading `name`.pth into `model`.
double RelativeError(torch::nn::Module& model, const std::string& name,
                     const std::function<torch::Tensor(const torch::Tensor&)>& forward) {
  absl::StatusOr<StateDictFile> weights = LoadWeightsFile(Fixture(name + ".pth"), model);
  EXPECT_THAT(weights, IsOk());
  absl::StatusOr<StateDictFile> io = ReadStateDictFile(Fixture(name + "_io.pth"));
  EXPECT_THAT(io, IsOk());
  if (!weights.ok() || !io.ok()) return 1.0;
  model.eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor reference = io->tensors["logits"];
  const torch::Tensor logits = forward(io->tensors["input"]);
  EXPECT_EQ(logits.sizes(), reference.sizes());
  // Random weights still give distinct, non-constant logits: the comparison is not vacuous.
  EXPECT_GT(reference.std().item<double>(), 0.1);
  const double error = ((logits - reference).abs().max() / reference.abs().max()).item<double>();
  std::cout << name << ": max |ours - reference| / max |reference| = " << error << "\n";
  return error;
}

TEST(ReferenceParity, ResNet18MatchesTorchvision) {
  ResNet model(ResNetOptions(1000, {2, 2, 2, 2}).block(ResNetOptions::Block::kBasic));
  EXPECT_LT(RelativeError(*model, "resnet18", [&](const torch::Tensor& x) { return model(x); }),
            1e-5);
}

TEST(ReferenceParity, ResNet50MatchesTorchvision) {
  ResNet model(ResNetOptions(1000, {3, 4, 6, 3}));
  EXPECT_LT(RelativeError(*model, "resnet50", [&](const torch::Tensor& x) { return model(x); }),
            1e-5);
}

TEST(ReferenceParity, DeiTTinyMatchesTimmLayout) {
  DeiT model(DeiTOptions(1000).embed_dim(192).depth(12).num_heads(3));
  EXPECT_LT(RelativeError(*model, "deit_tiny", [&](const torch::Tensor& x) { return model(x); }),
            1e-5);
}

TEST(ReferenceParity, ExportThenImportKeepsTheLogitsExactly) {
  ResNet original(ResNetOptions(1000, {2, 2, 2, 2}).block(ResNetOptions::Block::kBasic));
  ASSERT_THAT(LoadWeightsFile(Fixture("resnet18.pth"), *original), IsOk());
  const std::string path = ::testing::TempDir() + "/resnet18_export.pth";
  ASSERT_THAT(ExportWeightsFile(*original, path), IsOk());
  ResNet copy(ResNetOptions(1000, {2, 2, 2, 2}).block(ResNetOptions::Block::kBasic));
  ASSERT_THAT(LoadWeightsFile(path, *copy), IsOk());
  original->eval();
  copy->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor images = torch::rand({2, 3, 64, 64});
  EXPECT_TRUE(torch::equal(original(images), copy(images)));
}

}  // namespace
}  // namespace robustness
