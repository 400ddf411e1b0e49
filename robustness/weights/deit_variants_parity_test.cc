// The distilled DeiT and the Hybrid-DeiT (PAPER.md 3.12), built from ModelConfigs, on weights
// written by Python's torch.save in the layout of the released checkpoints, give the reference's
// logits.
//
// References (testdata/reference_models.py, plain PyTorch): facebookresearch/deit's
// DistilledVisionTransformer (dist_token, head_dist; eval output (head + head_dist) / 2) at
// DeiT-Ti size, saved as {"model": state_dict} like the DeiT release files; and timm 0.3.2's
// HybridEmbed over torchvision ResNet-18 conv1..layer3 (patch_embed.backbone.*, then
// patch_embed.proj = Linear(256, 256)) into DeiT-Mini, saved as the full checkpoint DeiT's
// main.py writes (model, optimizer, lr_scheduler, epoch, args). Input [2, 3, 224, 224] in
// [0, 1]; references see it ImageNet-normalised, our models normalise inside forward().
#include <iostream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "robustness/base/status_matchers.h"
#include "robustness/config/parse_text_proto.h"
#include "robustness/config/text_proto_file.h"
#include "robustness/models/model_factory.h"
#include "robustness/proto/model.pb.h"
#include "robustness/weights/module_state_dict.h"
#include "robustness/weights/state_dict_io.h"

namespace robustness {
namespace {

using ::testing::ElementsAre;

constexpr char kDistilledDeiTTiny[] = R"pb(
  num_classes: 1000
  in_channels: 3
  image_size: 224
  normalization {
    mean: [ 0.485, 0.456, 0.406 ]
    std: [ 0.229, 0.224, 0.225 ]
  }
  deit {
    patch_size: 16
    embed_dim: 192
    depth: 12
    num_heads: 3
    mlp_ratio: 4
    init: TIMM
    drop_path_rate: 0
    distillation_token: true
  }
)pb";


std::string Fixture(const std::string& name) { return "robustness/weights/testdata/" + name; }

// Loads `name`.pth into the model of `config` and returns max |ours - ref| / max |ref|.
double RelativeError(const proto::ModelConfig& config, const std::string& name,
                     StateDictFile* weights) {
  absl::StatusOr<ImageClassifier> model = CreateModel(config);
  EXPECT_THAT(model, IsOk());
  if (!model.ok()) return 1.0;
  absl::StatusOr<StateDictFile> loaded = LoadWeightsFile(Fixture(name + ".pth"), **model);
  EXPECT_THAT(loaded, IsOk());
  absl::StatusOr<StateDictFile> io = ReadStateDictFile(Fixture(name + "_io.pth"));
  EXPECT_THAT(io, IsOk());
  if (!loaded.ok() || !io.ok()) return 1.0;
  *weights = *std::move(loaded);
  (*model)->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor reference = io->tensors["logits"];
  const torch::Tensor logits = (*model)->forward(io->tensors["input"]);
  EXPECT_EQ(logits.sizes(), reference.sizes());
  EXPECT_GT(reference.std().item<double>(), 0.1);  // not a vacuous comparison
  const double error = ((logits - reference).abs().max() / reference.abs().max()).item<double>();
  std::cout << name << ": max |ours - reference| / max |reference| = " << error << "\n";
  return error;
}

TEST(DeiTVariantsParity, DistilledDeiTTinyMatchesFacebookResearchDeiT) {
  StateDictFile weights;
  EXPECT_LT(RelativeError(ParseTextProtoOrDie<proto::ModelConfig>(kDistilledDeiTTiny),
                          "deit_tiny_distilled", &weights),
            1e-5);
  EXPECT_EQ(weights.wrapper_key, "model");
}

TEST(DeiTVariantsParity, HybridDeiTMiniMatchesTimmHybridEmbed) {
  StateDictFile weights;
  // The zoo's checked-in config of the paper's Hybrid-DeiT, read strictly.
  absl::StatusOr<proto::ModelConfig> config =
      ReadTextProtoFile<proto::ModelConfig>("robustness/models/configs/hybrid_deit.pbtxt");
  ASSERT_THAT(config, IsOk());
  EXPECT_LT(RelativeError(*config, "hybrid_deit_mini", &weights), 1e-5);
  EXPECT_EQ(weights.wrapper_key, "model");
  EXPECT_THAT(weights.ignored_keys, ElementsAre("optimizer", "lr_scheduler", "epoch", "args"));
}

}  // namespace
}  // namespace robustness
