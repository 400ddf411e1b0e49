#include "robustness/models/flop_counter.h"

#include <cstdint>
#include <vector>

#include <gtest/gtest.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/utils.h>

#include "robustness/models/deit.h"
#include "robustness/models/resnet.h"

namespace robustness {
namespace {

// A conv, a grouped strided conv, a transposed conv, a linear layer and a weightless matmul.
struct TinyImpl : torch::nn::Module {
  TinyImpl() {
    conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 3).padding(1)));
    grouped = register_module(
        "grouped",
        torch::nn::Conv2d(torch::nn::Conv2dOptions(4, 8, 3).stride(2).padding(1).groups(2)));
    up = register_module(
        "up", torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(8, 2, 2).stride(2)));
    fc = register_module("fc", torch::nn::Linear(2 * 8 * 8, 5));
  }
  // x: [2, 3, 8, 8] -> [2, 5, 5].
  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor y = up(grouped(conv(x)));        // [2, 4, 8, 8] -> [2, 8, 4, 4] -> [2, 2, 8, 8]
    torch::Tensor features = fc(y.flatten(1));     // [2, 5]
    return torch::matmul(features.unsqueeze(2), features.unsqueeze(1));  // [2, 5, 5]
  }
  torch::nn::Conv2d conv{nullptr}, grouped{nullptr};
  torch::nn::ConvTranspose2d up{nullptr};
  torch::nn::Linear fc{nullptr};
};

TEST(CountFlops, TinyModelMatchesHandCount) {
  torch::manual_seed(0);
  TinyImpl model;
  const torch::Tensor x = torch::rand({2, 3, 8, 8});
  FlopCount count = CountFlops(model, [&] { model.forward(x); });
  // MACs: conv 2*4*8*8 outputs x 3*3*3; grouped 2*8*4*4 x (4/2)*3*3; transposed: each of the
  // 2*8*4*4 inputs meets 2*2*2 weights; fc 2 x 128*5; matmul 2*5*5 outputs x K = 1.
  const int64_t conv = 512 * 27, grouped = 256 * 18, up = 256 * 8, fc = 2 * 128 * 5, mm = 50;
  EXPECT_EQ(count.total_flops, 2 * (conv + grouped + up + fc + mm));
  ASSERT_EQ(count.modules.size(), 5u);
  EXPECT_EQ(count.modules[0].module, "conv");
  EXPECT_EQ(count.modules[0].flops, 2 * conv);
  EXPECT_EQ(count.modules[0].output_shape, std::vector<int64_t>({2, 4, 8, 8}));
  EXPECT_EQ(count.Find("grouped")->flops, 2 * grouped);
  EXPECT_EQ(count.Find("up")->flops, 2 * up);
  EXPECT_EQ(count.Find("up")->output_shape, std::vector<int64_t>({2, 2, 8, 8}));
  EXPECT_EQ(count.Find("fc")->flops, 2 * fc);
  // torch::nn::Linear on a 2-D input calls addmm(bias, x, W^T): attributed through the bias or
  // the transposed weight view alike.
  EXPECT_EQ(count.Find("fc")->op, "aten::addmm");
  EXPECT_EQ(count.Find(kOtherMatmuls)->flops, 2 * mm);
  EXPECT_EQ(count.Find(kOtherMatmuls)->output_shape, std::vector<int64_t>({2, 5, 5}));
  EXPECT_EQ(count.Find("missing"), nullptr);
}

TEST(CountFlops, DoesNotChangeTheOutputOrDependOnAutograd) {
  torch::manual_seed(0);
  TinyImpl model;
  const torch::Tensor x = torch::rand({2, 3, 8, 8});
  const torch::Tensor plain = model.forward(x);
  torch::Tensor counted;
  FlopCount with_grad = CountFlops(model, [&] { counted = model.forward(x); });
  EXPECT_TRUE(torch::equal(plain, counted));
  EXPECT_TRUE(counted.requires_grad());
  torch::NoGradGuard no_grad;
  EXPECT_EQ(CountFlops(model, [&] { model.forward(x); }).total_flops, with_grad.total_flops);
}

TEST(CountFlops, ScalesWithBatchAndCountsNothingOutsideTheCall) {
  torch::manual_seed(0);
  TinyImpl model;
  TinyImpl other;  // Its ops are counted, but attributed to no parameter of `model`.
  const int64_t one = CountFlops(model, [&] { model.forward(torch::rand({1, 3, 8, 8})); })
                          .total_flops;
  EXPECT_EQ(CountFlops(model, [&] { model.forward(torch::rand({4, 3, 8, 8})); }).total_flops,
            4 * one);
  FlopCount foreign = CountFlops(model, [&] { other.forward(torch::rand({1, 3, 8, 8})); });
  EXPECT_EQ(foreign.total_flops, one);
  ASSERT_EQ(foreign.modules.size(), 1u);
  EXPECT_EQ(foreign.modules[0].module, kOtherMatmuls);
  // No callback stays installed: a second count starts from zero.
  EXPECT_EQ(CountFlops(model, [] {}).total_flops, 0);
}

TEST(CountForwardFlops, ResNet50At224MatchesTorchvision) {
  torch::manual_seed(0);
  ResNet model(ResNetOptions(1000, {3, 4, 6, 3}));
  const torch::Tensor running_mean = model->named_buffers()["bn1.running_mean"].clone();
  const torch::Tensor images = torch::rand({1, 3, 224, 224});
  torch::Tensor logits;
  FlopCount count = CountForwardFlops(*model, images, &logits);
  // fvcore / module hooks over torchvision.models.resnet50(): 4,089,184,256 MACs per image.
  EXPECT_EQ(count.total_flops, 2 * int64_t{4089184256});
  EXPECT_EQ(count.modules.size(), 54u);  // 53 convs + fc, every one owning its weight.
  EXPECT_EQ(count.Find("conv1")->flops, 2 * int64_t{112 * 112 * 64} * 3 * 7 * 7);
  EXPECT_EQ(count.Find("conv1")->output_shape, std::vector<int64_t>({1, 64, 112, 112}));
  EXPECT_EQ(count.Find("layer4.2.conv3")->output_shape, std::vector<int64_t>({1, 2048, 7, 7}));
  EXPECT_EQ(count.Find("fc")->flops, 2 * 2048 * 1000);
  EXPECT_EQ(count.Find(kOtherMatmuls), nullptr);
  EXPECT_TRUE(model->is_training());  // Restored, and BN statistics untouched (eval forward).
  EXPECT_TRUE(torch::equal(model->named_buffers()["bn1.running_mean"], running_mean));
  model->eval();
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(logits, model->forward(images)));  // Counting changes no number.
}

TEST(CountForwardFlops, DeiTSAt224MatchesTheAnalyticFormula) {
  torch::manual_seed(0);
  DeiT model(DeiTOptions(1000));  // DeiT-S: D 384, depth 12, 6 heads, patch 16.
  FlopCount count = CountForwardFlops(*model, torch::rand({1, 3, 224, 224}));
  const int64_t d = 384, depth = 12, patches = 196, tokens = patches + 1;
  const int64_t patch_embed = patches * d * 3 * 16 * 16;
  // qkv 3D^2 + proj D^2 + fc1 4D^2 + fc2 4D^2 per token; q k^T and attn v T^2 D each.
  const int64_t per_block = tokens * 12 * d * d + 2 * tokens * tokens * d;
  const int64_t head = d * 1000;  // On the class token only.
  const int64_t macs = patch_embed + depth * per_block + head;
  EXPECT_EQ(macs, int64_t{4598882304});
  EXPECT_EQ(count.total_flops, 2 * macs);
  EXPECT_EQ(count.Find(kOtherMatmuls)->flops, 2 * depth * 2 * tokens * tokens * d);
  EXPECT_EQ(count.Find(kOtherMatmuls)->calls, 2 * depth);
  EXPECT_EQ(count.Find("blocks.0.attn.qkv")->flops, 2 * tokens * 3 * d * d);
  EXPECT_EQ(count.Find("blocks.0.attn.qkv")->output_shape, std::vector<int64_t>({1, 197, 1152}));
  EXPECT_EQ(count.Find("patch_embed.proj")->flops, 2 * patch_embed);
  EXPECT_EQ(count.Find("head")->flops, 2 * head);
}

}  // namespace
}  // namespace robustness
