#include "robustness/textures/texture_synthesis.h"

#include <glog/logging.h>
#include <torch/autograd.h>
#include <torch/optim/adam.h>

#include "robustness/textures/style_features.h"

namespace robustness {
namespace {

// [1, C, 1, 1] tensors of the model's normalisation.
std::pair<torch::Tensor, torch::Tensor> MeanStd(const VGGImpl& vgg, torch::Device device) {
  const auto& n = vgg.options().normalize();
  const int64_t c = static_cast<int64_t>(n.mean().size());
  torch::Tensor mean = torch::tensor(n.mean(), torch::kDouble).to(torch::kFloat).view({1, c, 1, 1});
  torch::Tensor std = torch::tensor(n.std(), torch::kDouble).to(torch::kFloat).view({1, c, 1, 1});
  return {mean.to(device), std.to(device)};
}

}  // namespace

std::vector<torch::Tensor> StyleGrams(VGGImpl& vgg, const torch::Tensor& images,
                                      std::vector<int64_t>* spatial) {
  const std::vector<torch::Tensor> maps =
      vgg.FeatureMaps(images, vgg.StyleLayers(), /*average_pool=*/true);
  std::vector<torch::Tensor> grams;
  if (spatial != nullptr) spatial->clear();
  for (const torch::Tensor& f : maps) {
    grams.push_back(Gram(f));
    if (spatial != nullptr) spatial->push_back(f.size(2) * f.size(3));
  }
  return grams;
}

SynthesisResult SynthesizeTextures(VGGImpl& vgg, const std::vector<torch::Tensor>& targets,
                                   int64_t size, const proto::TextureSynthesisConfig& config,
                                   torch::Generator& gen,
                                   const std::function<void(int64_t, int64_t)>& on_iteration) {
  CHECK(!vgg.is_training()) << "synthesis needs the feature network in eval mode";
  CHECK(!targets.empty());
  CHECK_GE(config.iterations(), 1);
  const int64_t k = targets[0].size(0);
  const int64_t channels = vgg.options().in_channels();
  const torch::Device device = targets[0].device();
  const auto [mean, std] = MeanStd(vgg, device);
  const torch::Tensor lo = (0 - mean) / std, hi = (1 - mean) / std;
  torch::Tensor z;
  {
    torch::NoGradGuard no_grad;
    z = torch::randn({k, channels, size, size}, gen, torch::TensorOptions().dtype(torch::kFloat))
            .to(device);
    z = torch::max(torch::min(z, hi), lo);
  }
  z.requires_grad_(true);
  torch::optim::Adam adam({z}, torch::optim::AdamOptions(config.learning_rate()));
  torch::AutoGradMode grad(true);
  torch::Tensor loss;
  std::vector<int64_t> spatial;
  for (int64_t it = 0; it < config.iterations(); ++it) {
    const std::vector<torch::Tensor> grams = StyleGrams(vgg, z * std + mean, &spatial);
    CHECK_EQ(grams.size(), targets.size()) << "targets must match the style layers";
    loss = StyleLoss(grams, targets, spatial, config.loss_scale());
    // The gradient with respect to z only: the feature network's .grad stay untouched.
    z.mutable_grad() = torch::autograd::grad({loss.sum()}, {z})[0];
    adam.step();
    {
      torch::NoGradGuard no_grad;
      z.copy_(torch::max(torch::min(z, hi), lo));
    }
    if (on_iteration) on_iteration(it + 1, config.iterations());
  }
  SynthesisResult result;
  {
    torch::NoGradGuard no_grad;
    // The loss of the last iterate itself (the loop's was computed before its step).
    const std::vector<torch::Tensor> grams = StyleGrams(vgg, z * std + mean, &spatial);
    result.final_loss = StyleLoss(grams, targets, spatial, config.loss_scale()).cpu();
    result.textures = (z.detach() * std + mean).clamp(0, 1).cpu().contiguous();
  }
  return result;
}

}  // namespace robustness
