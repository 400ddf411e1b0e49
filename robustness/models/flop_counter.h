// Forward FLOP counting for any torch::nn::Module, generically (no per-architecture formulas):
// the compute column of the model zoo's summaries (PAPER.md 3.12) and the GFLOP/s of the model
// benchmarks.
//
// Definition. FLOPs = 2 x multiply-accumulates (MACs) of
//   * convolutions (aten::conv1d/2d/3d, conv_transpose1d/2d/3d, convolution, _convolution):
//       output.numel() * weight.numel() / weight.size(0) MACs, i.e. N * C_out * H_out * W_out *
//       (C_in / groups) * kH * kW for a conv2d; transposed: input.numel() * weight.numel() /
//       weight.size(0);
//   * linear layers (aten::linear): input.numel() * out_features MACs;
//   * matrix products (aten::matmul, mm, bmm, addmm, baddbmm, addbmm, mv, addmv, dot), including
//     the weightless ones such as attention's q k^T and attn v: output.numel() * K MACs, K the
//     contracted size (addbmm: batch1.numel() * batch2.size(-1); dot: K = length).
// Not counted: bias adds, elementwise ops and activations, normalisation layers, softmax, pooling,
// embedding additions, and the `addmm`/`baddbmm` input term. This is the op set and the
// convention of fvcore and ptflops (whose numbers are MACs; ours are FLOPs, twice as large).
// E.g. torchvision's ResNet-50 at 224 px: 2 x 4,089,184,256 = 8,178,368,512 FLOPs per image;
// DeiT-S at 224 px: 2 x 4,598,882,304 = 9,197,764,608.
//
// Mechanism. While counting, an ATen RecordFunction thread-local callback sees every dispatcher
// call on the calling thread with its input shapes and outputs. Each op from the list above is
// counted once, at the outermost level: the ops it dispatches to internally (aten::linear ->
// aten::addmm / aten::matmul -> aten::mm; aten::conv2d -> aten::convolution -> ...) are not
// counted again. Only ops issued on the calling thread are seen (ATen's intra-op worker threads
// only run pieces of an op that is already counted). Ops that do not go through the dispatcher
// (none in LibTorch's nn modules) are invisible.
//
// Attribution. Each counted op is attributed to the module that directly owns (registers) the
// first of its tensor inputs that shares storage with one of the module tree's parameters (the
// weight of a conv / linear, or its bias; compared by storage data pointer, so views and
// transposes of a weight count too). Ops whose operands are no parameter at all (in the zoo:
// exactly attention's q k^T and attn v) go to the bucket kOtherMatmuls. A parameter shared by
// several modules is attributed to the first one in named_modules() order.
//
// Example:
//   FlopCount count = CountForwardFlops(*model, torch::rand({1, 3, 224, 224}));
//   LOG(INFO) << count.total_flops / 1e9 << " GFLOPs";         // 8.18 for ResNet-50
//   for (const ModuleFlops& m : count.modules) LOG(INFO) << m.module << " " << m.flops;
#ifndef ROBUSTNESS_MODELS_FLOP_COUNTER_H_
#define ROBUSTNESS_MODELS_FLOP_COUNTER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

#include "robustness/models/image_classifier.h"

namespace robustness {

// The bucket for counted ops whose operands are no parameter of the module tree.
inline constexpr char kOtherMatmuls[] = "other (attention matmuls)";

// Counted FLOPs of one parameter-owning module (or of the kOtherMatmuls bucket).
struct ModuleFlops {
  std::string module;          // Path as in named_modules(): "layer1.0.conv1", "" for the root.
  std::string op;              // The first counted op seen for it, e.g. "aten::conv2d".
  int64_t flops = 0;           // Summed over all its calls.
  int64_t calls = 0;           // Counted ops attributed to it.
  std::vector<int64_t> output_shape;  // Output of its first counted op, e.g. {1, 64, 112, 112}.
};

struct FlopCount {
  int64_t total_flops = 0;           // Sum of modules[i].flops.
  std::vector<ModuleFlops> modules;  // In the order each was first seen during the forward pass.

  // The entry for `module` (a path or kOtherMatmuls), or nullptr if nothing was counted for it.
  const ModuleFlops* Find(const std::string& module) const;
};

// Counts the FLOPs (definition above) of the ops `run` issues on the calling thread, attributed to
// `module`'s parameters. `run` should do one forward pass of `module` and nothing else (a
// backward pass inside it would be counted too). Counting does not change what `run` computes.
// Not reentrant: CHECK-fails if a count is already running on this thread. Exceptions from `run`
// propagate after the callback is removed.
FlopCount CountFlops(const torch::nn::Module& module, const std::function<void()>& run);

// One inference forward of `model` on `images` (float32 [N, C, H, W] in [0, 1], the model's
// input contract), counted with CountFlops: eval() mode under NoGradGuard, the train()/eval()
// state restored afterwards, so BatchNorm running statistics are not touched. The logits are
// stored in `*logits` when it is not null. FLOPs scale linearly with N.
FlopCount CountForwardFlops(ImageClassifierImpl& model, const torch::Tensor& images,
                            torch::Tensor* logits = nullptr);

}  // namespace robustness

#endif  // ROBUSTNESS_MODELS_FLOP_COUNTER_H_
