#include "robustness/models/deit.h"

#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <glog/logging.h>
#include <torch/nn/init.h>

namespace robustness {
namespace {

// timm's trunc_normal_ (inverse-CDF sampling, then clamp): values N(0, std) restricted to
// [lower, upper] absolute bounds. timm calls it with the default bounds +-2, which at std 0.02 is
// a 100-sigma cut, i.e. a plain normal in practice; kept for exact parity of the recipe.
void TruncNormal(torch::Tensor tensor, double std, double lower = -2.0, double upper = 2.0) {
  torch::NoGradGuard no_grad;
  auto norm_cdf = [](double x) { return (1.0 + std::erf(x / std::sqrt(2.0))) / 2.0; };
  const double l = norm_cdf(lower / std);
  const double u = norm_cdf(upper / std);
  tensor.uniform_(2 * l - 1, 2 * u - 1);
  tensor.erfinv_();
  tensor.mul_(std * std::sqrt(2.0));
  tensor.clamp_(lower, upper);
}

class AttentionImpl : public torch::nn::Module {
 public:
  AttentionImpl(int64_t dim, int64_t num_heads)
      : num_heads_(num_heads), scale_(std::pow(static_cast<double>(dim / num_heads), -0.5)) {
    qkv = register_module("qkv", torch::nn::Linear(dim, 3 * dim));
    proj = register_module("proj", torch::nn::Linear(dim, dim));
  }

  // x: [B, T, D] -> [B, T, D].
  torch::Tensor forward(const torch::Tensor& x) {
    const int64_t batch = x.size(0), tokens = x.size(1), dim = x.size(2);
    // [B, T, 3D] -> [3, B, H, T, head_dim]; the 3D axis is laid out (q|k|v, head, head_dim) as
    // in timm, so imported qkv weights line up.
    torch::Tensor qkv_heads =
        qkv(x).reshape({batch, tokens, 3, num_heads_, dim / num_heads_}).permute({2, 0, 3, 1, 4});
    // Scaling q before the product is the same as scaling the [T, T] scores, on fewer numbers.
    // unbind, as the Python twin's `q, k, v = ...`: its backward stacks the three gradients once,
    // where three selects would each zero-fill a whole [3, B, H, T, head_dim] buffer and add.
    const std::vector<torch::Tensor> q_k_v = qkv_heads.unbind(0);
    torch::Tensor q = q_k_v[0] * scale_;
    torch::Tensor attention = torch::matmul(q, q_k_v[1].transpose(-2, -1)).softmax(-1);
    torch::Tensor out = torch::matmul(attention, q_k_v[2]);  // [B, H, T, head_dim]
    return proj(out.transpose(1, 2).reshape({batch, tokens, dim}));
  }

  torch::nn::Linear qkv{nullptr}, proj{nullptr};

 private:
  int64_t num_heads_;
  double scale_;
};
TORCH_MODULE(Attention);

class MlpImpl : public torch::nn::Module {
 public:
  MlpImpl(int64_t dim, int64_t hidden) {
    fc1 = register_module("fc1", torch::nn::Linear(dim, hidden));
    fc2 = register_module("fc2", torch::nn::Linear(hidden, dim));
  }
  torch::Tensor forward(const torch::Tensor& x) { return fc2(torch::gelu(fc1(x))); }

  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(Mlp);

torch::nn::LayerNorm MakeLayerNorm(int64_t dim) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-6));
}

class BlockImpl : public torch::nn::Module {
 public:
  BlockImpl(int64_t dim, int64_t num_heads, int64_t mlp_hidden, double drop_path_rate)
      : drop_path_rate_(drop_path_rate) {
    norm1 = register_module("norm1", MakeLayerNorm(dim));
    attn = register_module("attn", Attention(dim, num_heads));
    norm2 = register_module("norm2", MakeLayerNorm(dim));
    mlp = register_module("mlp", Mlp(dim, mlp_hidden));
  }
  torch::Tensor forward(torch::Tensor x) {
    x = x + DropPath(attn(norm1(x)), drop_path_rate_, is_training());
    return x + DropPath(mlp(norm2(x)), drop_path_rate_, is_training());
  }

  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  Attention attn{nullptr};
  Mlp mlp{nullptr};

 private:
  double drop_path_rate_;
};
TORCH_MODULE(Block);

}  // namespace

torch::Tensor DropPath(const torch::Tensor& x, double rate, bool training) {
  CHECK(rate >= 0.0 && rate < 1.0) << "DropPath: rate must be in [0, 1), got " << rate;
  if (rate == 0.0 || !training) return x;
  const double keep = 1.0 - rate;
  std::vector<int64_t> shape(x.dim(), 1);
  shape[0] = x.size(0);
  // Later timm versions draw bernoulli_(keep) instead: the same distribution, other numbers.
  torch::Tensor mask = (torch::rand(shape, x.options()) + keep).floor_();
  return x.div(keep) * mask;
}

DeiTOptions::DeiTOptions(int64_t num_classes) : num_classes_(num_classes) {}

DeiTImpl::DeiTImpl(DeiTOptions options_) : options(std::move(options_)) {
  const int64_t dim = options.embed_dim();
  const int64_t mlp_hidden = static_cast<int64_t>(dim * options.mlp_ratio());  // timm: int().
  CHECK_GE(options.num_classes(), 1);
  CHECK_GE(options.in_channels(), 1);
  CHECK_GE(options.patch_size(), 1);
  CHECK_GE(options.image_size(), 1);
  CHECK_GE(options.depth(), 1);
  CHECK_GE(options.num_heads(), 1);
  CHECK_GE(mlp_hidden, 1) << "DeiT: embed_dim * mlp_ratio must be >= 1";
  CHECK_EQ(options.image_size() % options.patch_size(), 0)
      << "DeiT: image_size must be divisible by patch_size";
  CHECK_EQ(dim % options.num_heads(), 0) << "DeiT: embed_dim must be divisible by num_heads";
  CHECK_EQ(static_cast<int64_t>(options.normalize().mean().size()), options.in_channels())
      << "DeiT: normalisation statistics must have one entry per input channel";
  CHECK(options.drop_path_rate() >= 0.0 && options.drop_path_rate() < 1.0)
      << "DeiT: drop_path_rate must be in [0, 1), got " << options.drop_path_rate();

  const int64_t grid = options.image_size() / options.patch_size();
  num_patches_ = grid * grid;
  const int64_t prefix_tokens = options.distillation_token() ? 2 : 1;

  normalize_ = register_module("normalize", Normalize(options.normalize()));
  auto patch_embed = register_module("patch_embed", std::make_shared<torch::nn::Module>());
  if (options.hybrid_backbone().has_value()) {
    CHECK_EQ(options.hybrid_backbone()->in_channels(), options.in_channels())
        << "Hybrid-DeiT: the backbone's in_channels must be the model's";
    hybrid_backbone_ =
        patch_embed->register_module("backbone", ResNetTrunk(*options.hybrid_backbone()));
    CHECK_EQ(hybrid_backbone_->stride(), options.patch_size())
        << "Hybrid-DeiT: patch_size must equal the backbone's total stride";
    hybrid_proj_ = patch_embed->register_module(
        "proj", torch::nn::Linear(hybrid_backbone_->num_features(), dim));
  } else {
    patch_proj_ = patch_embed->register_module(
        "proj",
        torch::nn::Conv2d(torch::nn::Conv2dOptions(options.in_channels(), dim, options.patch_size())
                              .stride(options.patch_size())));
  }
  cls_token_ = register_parameter("cls_token", torch::zeros({1, 1, dim}));
  if (options.distillation_token()) {
    dist_token_ = register_parameter("dist_token", torch::zeros({1, 1, dim}));
  }
  pos_embed_ =
      register_parameter("pos_embed", torch::zeros({1, num_patches_ + prefix_tokens, dim}));
  blocks_ = register_module("blocks", torch::nn::ModuleList());
  // timm computes the per-block rates in float32 with torch.linspace, then .item().
  const torch::Tensor rates = torch::linspace(0.0, options.drop_path_rate(), options.depth());
  for (int64_t i = 0; i < options.depth(); ++i) {
    blocks_->push_back(Block(dim, options.num_heads(), mlp_hidden, rates[i].item<double>()));
  }
  norm_ = register_module("norm", MakeLayerNorm(dim));
  head_ = register_module("head", torch::nn::Linear(dim, options.num_classes()));
  if (options.distillation_token()) {
    head_dist_ = register_module("head_dist", torch::nn::Linear(dim, options.num_classes()));
  }

  // timm 0.3.2 init; LayerNorm is already 1/0, the patch conv keeps its default init and the
  // hybrid trunk its ResNet init. dist_token is drawn last, so that models without it consume
  // the generator exactly as before it existed.
  TruncNormal(pos_embed_, 0.02);
  TruncNormal(cls_token_, 0.02);
  torch::NoGradGuard no_grad;
  for (const auto& module : modules(/*include_self=*/false)) {
    if (auto* linear = module->as<torch::nn::LinearImpl>()) {
      TruncNormal(linear->weight, 0.02);
      linear->bias.zero_();
    }
  }
  if (options.zero_init_residual_projections()) {
    for (const auto& block : *blocks_) {
      auto* b = block->as<BlockImpl>();
      b->attn->proj->weight.zero_();
      b->mlp->fc2->weight.zero_();
    }
  }
  if (options.distillation_token()) TruncNormal(dist_token_, 0.02);
}

torch::Tensor DeiTImpl::Encode(const torch::Tensor& images) {
  CHECK_EQ(images.dim(), 4) << "DeiT expects [N, C, H, W], got " << images.sizes();
  CHECK(images.size(2) == options.image_size() && images.size(3) == options.image_size())
      << "DeiT was built for " << options.image_size() << " px inputs, got " << images.sizes();
  const int64_t batch = images.size(0);
  // [N, D, H/p, W/p] or [N, C, h, w] -> [N, P, D], positions in row-major order as in timm.
  torch::Tensor x =
      hybrid_backbone_
          ? hybrid_proj_(
                hybrid_backbone_->forward_features(normalize_(images)).flatten(2).transpose(1, 2))
          : patch_proj_(normalize_(images)).flatten(2).transpose(1, 2);
  if (options.distillation_token()) {
    x = torch::cat({cls_token_.expand({batch, -1, -1}), dist_token_.expand({batch, -1, -1}), x},
                   /*dim=*/1);
  } else {
    x = torch::cat({cls_token_.expand({batch, -1, -1}), x}, /*dim=*/1);
  }
  x = x + pos_embed_;
  for (const auto& block : *blocks_) x = block->as<BlockImpl>()->forward(x);
  return x;
}

torch::Tensor DeiTImpl::forward(const torch::Tensor& images) {
  if (options.distillation_token()) {
    auto [logits, dist_logits] = forward_heads(images);
    return (logits + dist_logits) / 2;
  }
  // LayerNorm is per token, so normalising only the class token equals timm's norm-then-select.
  return head_(norm_(Encode(images).select(/*dim=*/1, /*index=*/0)));
}

std::pair<torch::Tensor, torch::Tensor> DeiTImpl::forward_heads(const torch::Tensor& images) {
  CHECK(options.distillation_token()) << "DeiT::forward_heads needs a distillation token";
  torch::Tensor x = Encode(images);
  return {head_(norm_(x.select(/*dim=*/1, /*index=*/0))),
          head_dist_(norm_(x.select(/*dim=*/1, /*index=*/1)))};
}

void DeiTImpl::pretty_print(std::ostream& stream) const {
  stream << "robustness::DeiT(patch_size=" << options.patch_size()
         << ", embed_dim=" << options.embed_dim() << ", depth=" << options.depth()
         << ", num_heads=" << options.num_heads() << ", mlp_ratio=" << options.mlp_ratio()
         << ", image_size=" << options.image_size() << ", num_classes=" << options.num_classes();
  if (options.drop_path_rate() > 0) stream << ", drop_path_rate=" << options.drop_path_rate();
  if (options.distillation_token()) stream << ", distillation_token";
  if (hybrid_backbone_) {
    stream << ", hybrid_backbone=";
    hybrid_backbone_->pretty_print(stream);
  }
  stream << ")";
}

}  // namespace robustness
