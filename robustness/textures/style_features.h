// The texture dictionary's image descriptors (PAPER.md 3.9; research/patch_attack.md section 1):
// Grad-CAM attention of the feature network, the masks it induces at each style layer, and Gram
// matrices (plain, for synthesised textures; attention-masked, for dictionary images).
//
// All tensors float32 on the feature network's device. Images are pixels in [0, 1]
// [N, C, H, W]; the VGG normalises them itself (robustness/models/vgg.h).
#ifndef ROBUSTNESS_TEXTURES_STYLE_FEATURES_H_
#define ROBUSTNESS_TEXTURES_STYLE_FEATURES_H_

#include <cstdint>
#include <utility>
#include <vector>

#include <torch/types.h>

#include "robustness/models/vgg.h"

namespace robustness {

// Grad-CAM (Selvaraju et al.) at vgg.CamLayer() for class classes[i] of image i: with A the
// layer's output [N, C, h, w] and z the pre-softmax logits, w_j = spatial mean of dz_k/dA_j and
// CAM = relu(sum_j w_j A_j). Returns the raw maps [N, h, w], and the logits [N, K] of the same
// forward pass in *logits when not null (the dictionary builder's correctness filter needs no
// pass of its own). The model must be in eval mode (each image's map is then independent of the
// others in the batch). classes: int64 [N].
torch::Tensor GradCam(VGGImpl& vgg, const torch::Tensor& images, const torch::Tensor& classes,
                      torch::Tensor* logits = nullptr);

// The attention masks of `cam` [N, h, w] at each size in `sizes` ({H_l, W_l}): bilinear resize
// (half-pixel centres, OpenCV's and torch's align_corners=false), per-image min-max
// normalisation, then value >= threshold. Returns one bool [N, H_l, W_l] per size, and bool [N]
// marking images whose map is constant (no attention; their masks are all false: the reference
// divides by zero there, sheet pitfall 12).
struct CamMasks {
  std::vector<torch::Tensor> masks;
  torch::Tensor degenerate;
};
CamMasks MasksFromCam(const torch::Tensor& cam, const std::vector<std::pair<int64_t, int64_t>>& sizes,
                      double threshold);

// Plain Gram matrices of features [N, C, H, W]: F F^T per image, [N, C, C], no normalisation.
torch::Tensor Gram(const torch::Tensor& features);

// Attention Gram (sheet section 1): (H W / |M|) sum_{p in M} f_p f_p^T per image, the masked mean
// outer product scaled to a full-map sum; mask bool [N, H, W], each with |M| >= 1 (CHECKed).
torch::Tensor AttentionGram(const torch::Tensor& features, const torch::Tensor& mask);

// The synthesis loss of each texture (sheet section 1): scale / L * sum_l ||G_l - T_l||_F^2 /
// (4 C_l^2 N_l^2), N_l = H_l W_l; grams[l] [K, C_l, C_l] and targets[l] alike, `spatial[l]` =
// N_l. Returns [K] (differentiable).
torch::Tensor StyleLoss(const std::vector<torch::Tensor>& grams,
                        const std::vector<torch::Tensor>& targets,
                        const std::vector<int64_t>& spatial, double scale);

}  // namespace robustness

#endif  // ROBUSTNESS_TEXTURES_STYLE_FEATURES_H_
