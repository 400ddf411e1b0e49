// Gram-matching texture synthesis (Gatys et al.; research/patch_attack.md section 1): one texture
// per K-means centre, all of a class's textures optimised as one batch. Batching is exactly the
// reference's one-at-a-time synthesis: each texture's loss depends only on its own pixels and
// Adam is elementwise, so the summed loss gives every texture its own gradient and update
// (texture_synthesis_test checks a batch of two against each alone).
//
// Per texture: z ~ N(0, 1) in the feature network's normalised space (clamped), then
// `iterations` Adam steps (learning_rate, default betas/eps) on StyleLoss of its Gram matrices at
// vgg.StyleLayers() (average-pooled VGG) against the targets, z clamped after every step to the
// normalised image of [0, 1]. No content loss, no classification term (the reference's cls_w 0).
#ifndef ROBUSTNESS_TEXTURES_TEXTURE_SYNTHESIS_H_
#define ROBUSTNESS_TEXTURES_TEXTURE_SYNTHESIS_H_

#include <cstdint>
#include <functional>
#include <vector>

#include <torch/types.h>

#include "robustness/models/vgg.h"
#include "robustness/proto/patch_attack.pb.h"

namespace robustness {

struct SynthesisResult {
  torch::Tensor textures;    // float32 [K, C, size, size], pixels in [0, 1], CPU
  torch::Tensor final_loss;  // float32 [K]: the loss at the last iterate
};

// targets[l]: float32 [K, C_l, C_l], one per style layer (vgg.StyleLayers() order), on vgg's
// device. `vgg` in eval mode; its parameters get no gradients. `on_iteration(done, total)` is
// called after every step when set. Deterministic given `gen` (CPU).
SynthesisResult SynthesizeTextures(VGGImpl& vgg, const std::vector<torch::Tensor>& targets,
                                   int64_t size, const proto::TextureSynthesisConfig& config,
                                   torch::Generator& gen,
                                   const std::function<void(int64_t, int64_t)>& on_iteration = {});

// The Gram matrices of `images` [N, C, H, W] (pixels) at the style layers, as synthesis sees
// them: one [N, C_l, C_l] per layer, and each layer's H_l W_l in `spatial` when not null.
std::vector<torch::Tensor> StyleGrams(VGGImpl& vgg, const torch::Tensor& images,
                                      std::vector<int64_t>* spatial = nullptr);

}  // namespace robustness

#endif  // ROBUSTNESS_TEXTURES_TEXTURE_SYNTHESIS_H_
