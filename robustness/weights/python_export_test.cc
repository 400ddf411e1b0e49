// C++ -> Python: weights exported by ExportWeightsFile load with torch.load and
// load_state_dict(strict=True) into torchvision's resnet18 and into the timm-0.3.2-layout
// reference DeiT, distilled DeiT and Hybrid-DeiT (testdata/reference_models.py), and give the C++
// model's logits.
//
// testdata/check_export.py does the Python side and exits non-zero on any failure; each test also
// feeds it logits perturbed by 1e-3 of their range to show that the comparison can fail.
#include <sys/wait.h>

#include <cstdlib>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "robustness/base/status_matchers.h"
#include "robustness/config/parse_text_proto.h"
#include "robustness/models/deit.h"
#include "robustness/models/model_factory.h"
#include "robustness/models/resnet.h"
#include "robustness/proto/model.pb.h"
#include "robustness/weights/module_state_dict.h"
#include "robustness/weights/state_dict_io.h"

namespace robustness {
namespace {

std::string TempPath(const std::string& name) { return ::testing::TempDir() + "/" + name; }

// Exit status of check_export.py with `args`.
int RunCheck(const std::string& args) {
  const std::string command =
      absl::StrCat("/usr/bin/python3 -B robustness/weights/testdata/check_export.py ", args);
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Writes {"input", "logits", "mean", "std"} for check_export.py.
void WriteIo(const std::string& path, torch::nn::Module& model, const torch::Tensor& images,
             const torch::Tensor& logits) {
  const StateDict buffers = ModuleStateDict(model, /*include_normalization=*/true);
  StateDict io;
  io.insert("input", images);
  io.insert("logits", logits);
  io.insert("mean", buffers["normalize.mean"]);
  io.insert("std", buffers["normalize.std"]);
  ASSERT_THAT(WriteStateDictFile(path, io), IsOk());
}

// Exports `model`, checks the Python side on its logits and on perturbed logits.
void ExpectPythonAgrees(torch::nn::Module& model, const torch::Tensor& logits,
                        const torch::Tensor& images, const std::string& name,
                        const std::string& arch_flags) {
  const std::string weights = TempPath(name + ".pth");
  ASSERT_THAT(ExportWeightsFile(model, weights), IsOk());
  WriteIo(TempPath(name + "_io.pth"), model, images, logits);
  WriteIo(TempPath(name + "_off_io.pth"), model, images, logits + 1e-3 * logits.abs().max());
  const std::string flags = absl::StrCat(arch_flags, " --weights=", weights);
  EXPECT_EQ(RunCheck(absl::StrCat(flags, " --io=", TempPath(name + "_io.pth"))), 0);
  EXPECT_EQ(RunCheck(absl::StrCat(flags, " --io=", TempPath(name + "_off_io.pth"))), 1);
}

TEST(PythonExport, TorchvisionResNet18LoadsOurWeightsStrictly) {
  torch::manual_seed(5);
  ResNet model(ResNetOptions(10, {2, 2, 2, 2}).block(ResNetOptions::Block::kBasic));
  {
    // Non-trivial BN statistics and counters, as a trained model has.
    torch::NoGradGuard no_grad;
    for (const auto& module : model->modules(/*include_self=*/false)) {
      if (auto* bn = module->as<torch::nn::BatchNorm2dImpl>()) {
        bn->weight.uniform_(0.5, 1.5);
        bn->bias.normal_(0, 0.1);
        bn->running_mean.normal_(0, 0.1);
        bn->running_var.uniform_(0.5, 2.0);
        bn->num_batches_tracked.fill_(4321);
      }
    }
  }
  model->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor images = torch::rand({2, 3, 64, 64});
  ExpectPythonAgrees(*model, model(images), images, "resnet18", "--arch=resnet18 --num_classes=10");
}

TEST(PythonExport, ReferenceDeiTLoadsOurWeightsStrictly) {
  torch::manual_seed(6);
  DeiT model(DeiTOptions(10).image_size(32).patch_size(8).embed_dim(64).depth(2).num_heads(2));
  model->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor images = torch::rand({2, 3, 32, 32});
  ExpectPythonAgrees(*model, model(images), images, "deit",
                     "--arch=deit --num_classes=10 --img_size=32 --patch_size=8 --embed_dim=64 "
                     "--depth=2 --num_heads=2");
}

// The distilled DeiT and the Hybrid-DeiT, built from configs as the experiments build them.
TEST(PythonExport, ReferenceDistilledAndHybridDeiTLoadOurWeightsStrictly) {
  const std::string common = R"pb(
    num_classes: 10
    in_channels: 3
    image_size: 64
    normalization {
      mean: [ 0.5, 0.5, 0.5 ]
      std: [ 0.5, 0.5, 0.5 ]
    }
  )pb";
  const std::string encoder =
      "patch_size: 16 embed_dim: 64 depth: 2 num_heads: 2 mlp_ratio: 4 init: TIMM "
      "drop_path_rate: 0 ";
  const std::string distilled = common + "deit { " + encoder + "distillation_token: true }";
  const std::string hybrid = common +
                             "hybrid_deit { backbone { block: BASIC stage_depths: [ 2, 2, 2 ] "
                             "base_width: 64 stem: IMAGENET activation: RELU batch_norm {} } "
                             "encoder { " +
                             encoder + "distillation_token: false } }";
  const std::string arch_flags =
      " --num_classes=10 --img_size=64 --patch_size=16 --embed_dim=64 --depth=2 --num_heads=2";
  for (const auto& [name, config] :
       {std::pair<std::string, std::string>{"deit_distilled", distilled},
        {"hybrid_deit", hybrid}}) {
    SCOPED_TRACE(name);
    torch::manual_seed(7);
    absl::StatusOr<ImageClassifier> model =
        CreateModel(ParseTextProtoOrDie<proto::ModelConfig>(config));
    ASSERT_THAT(model, IsOk());
    (*model)->eval();
    torch::NoGradGuard no_grad;
    const torch::Tensor images = torch::rand({2, 3, 64, 64});
    ExpectPythonAgrees(**model, (*model)->forward(images), images, name,
                       "--arch=" + name + arch_flags);
  }
}

}  // namespace
}  // namespace robustness
