#include "robustness/textures/style_features.h"

#include <glog/logging.h>
#include <torch/autograd.h>
#include <torch/nn/functional/upsampling.h>

namespace robustness {

namespace F = torch::nn::functional;

torch::Tensor GradCam(VGGImpl& vgg, const torch::Tensor& images, const torch::Tensor& classes,
                      torch::Tensor* logits_out) {
  CHECK(!vgg.is_training()) << "GradCam needs the feature network in eval mode";
  CHECK_EQ(classes.dim(), 1);
  CHECK_EQ(classes.size(0), images.size(0));
  torch::AutoGradMode grad(true);
  const int64_t layer = vgg.CamLayer();
  // The activation as a leaf, so the gradient is taken with respect to it alone.
  torch::Tensor activation;
  {
    torch::NoGradGuard no_grad;
    activation = vgg.FeatureMaps(images, {layer}, /*average_pool=*/false)[0];
  }
  activation = activation.detach().requires_grad_(true);
  const torch::Tensor logits = vgg.LogitsFrom(activation, layer);
  const torch::Tensor chosen = logits.gather(1, classes.to(logits.device()).unsqueeze(1)).sum();
  const torch::Tensor grad_a = torch::autograd::grad({chosen}, {activation})[0];
  if (logits_out != nullptr) *logits_out = logits.detach();
  const torch::Tensor weights = grad_a.mean({2, 3}, /*keepdim=*/true);
  return torch::relu((weights * activation.detach()).sum(1));
}

CamMasks MasksFromCam(const torch::Tensor& cam,
                      const std::vector<std::pair<int64_t, int64_t>>& sizes, double threshold) {
  CHECK_EQ(cam.dim(), 3);
  CamMasks out;
  const torch::Tensor flat = cam.flatten(1);
  out.degenerate = std::get<0>(flat.max(1)) == std::get<0>(flat.min(1));
  for (const auto& [h, w] : sizes) {
    torch::Tensor resized =
        F::interpolate(cam.unsqueeze(1), F::InterpolateFuncOptions()
                                             .size(std::vector<int64_t>{h, w})
                                             .mode(torch::kBilinear)
                                             .align_corners(false))
            .squeeze(1);
    const torch::Tensor r = resized.flatten(1);
    const torch::Tensor lo = std::get<0>(r.min(1)).view({-1, 1, 1});
    const torch::Tensor hi = std::get<0>(r.max(1)).view({-1, 1, 1});
    // Degenerate maps would divide 0 by 0; their masks are all false.
    const torch::Tensor range = (hi - lo).clamp_min(1e-30);
    torch::Tensor mask = ((resized - lo) / range) >= threshold;
    mask.masked_fill_(out.degenerate.view({-1, 1, 1}), false);
    out.masks.push_back(mask);
  }
  return out;
}

torch::Tensor Gram(const torch::Tensor& features) {
  CHECK_EQ(features.dim(), 4);
  const torch::Tensor f = features.flatten(2);
  return torch::bmm(f, f.transpose(1, 2));
}

torch::Tensor AttentionGram(const torch::Tensor& features, const torch::Tensor& mask) {
  CHECK_EQ(features.dim(), 4);
  CHECK_EQ(mask.dim(), 3);
  const torch::Tensor count = mask.flatten(1).sum(1).to(torch::kFloat);
  CHECK(count.min().item<float>() >= 1) << "AttentionGram: an empty mask";
  const double spatial = static_cast<double>(features.size(2) * features.size(3));
  const torch::Tensor masked = features * mask.unsqueeze(1).to(features.dtype());
  return Gram(masked) * (spatial / count).view({-1, 1, 1});
}

torch::Tensor StyleLoss(const std::vector<torch::Tensor>& grams,
                        const std::vector<torch::Tensor>& targets,
                        const std::vector<int64_t>& spatial, double scale) {
  CHECK_EQ(grams.size(), targets.size());
  CHECK_EQ(grams.size(), spatial.size());
  CHECK(!grams.empty());
  torch::Tensor total;
  for (size_t l = 0; l < grams.size(); ++l) {
    const double c = static_cast<double>(grams[l].size(1));
    const double n = static_cast<double>(spatial[l]);
    const torch::Tensor term = (grams[l] - targets[l]).pow(2).sum({1, 2}) / (4.0 * c * c * n * n);
    total = l == 0 ? term : total + term;
  }
  return total * (scale / static_cast<double>(grams.size()));
}

}  // namespace robustness
