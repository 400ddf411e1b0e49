#include "robustness/models/deit.h"

#include <cmath>
#include <memory>
#include <string>
#include <utility>

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
    torch::Tensor q = qkv_heads[0] * scale_;
    torch::Tensor attention = torch::matmul(q, qkv_heads[1].transpose(-2, -1)).softmax(-1);
    torch::Tensor out = torch::matmul(attention, qkv_heads[2]);  // [B, H, T, head_dim]
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
  BlockImpl(int64_t dim, int64_t num_heads, int64_t mlp_hidden) {
    norm1 = register_module("norm1", MakeLayerNorm(dim));
    attn = register_module("attn", Attention(dim, num_heads));
    norm2 = register_module("norm2", MakeLayerNorm(dim));
    mlp = register_module("mlp", Mlp(dim, mlp_hidden));
  }
  torch::Tensor forward(torch::Tensor x) {
    x = x + attn(norm1(x));
    return x + mlp(norm2(x));
  }

  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  Attention attn{nullptr};
  Mlp mlp{nullptr};
};
TORCH_MODULE(Block);

}  // namespace

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

  const int64_t grid = options.image_size() / options.patch_size();
  num_patches_ = grid * grid;

  normalize_ = register_module("normalize", Normalize(options.normalize()));
  auto patch_embed = register_module("patch_embed", std::make_shared<torch::nn::Module>());
  patch_proj_ = patch_embed->register_module(
      "proj",
      torch::nn::Conv2d(torch::nn::Conv2dOptions(options.in_channels(), dim, options.patch_size())
                            .stride(options.patch_size())));
  cls_token_ = register_parameter("cls_token", torch::zeros({1, 1, dim}));
  pos_embed_ = register_parameter("pos_embed", torch::zeros({1, num_patches_ + 1, dim}));
  blocks_ = register_module("blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < options.depth(); ++i) {
    blocks_->push_back(Block(dim, options.num_heads(), mlp_hidden));
  }
  norm_ = register_module("norm", MakeLayerNorm(dim));
  head_ = register_module("head", torch::nn::Linear(dim, options.num_classes()));

  // timm 0.3.2 init; LayerNorm is already 1/0 and the patch conv keeps its default init.
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
}

torch::Tensor DeiTImpl::forward(const torch::Tensor& images) {
  CHECK_EQ(images.dim(), 4) << "DeiT expects [N, C, H, W], got " << images.sizes();
  CHECK(images.size(2) == options.image_size() && images.size(3) == options.image_size())
      << "DeiT was built for " << options.image_size() << " px inputs, got " << images.sizes();
  const int64_t batch = images.size(0);
  // [N, D, H/p, W/p] -> [N, P, D], patches in row-major order as in timm.
  torch::Tensor x = patch_proj_(normalize_(images)).flatten(2).transpose(1, 2);
  x = torch::cat({cls_token_.expand({batch, -1, -1}), x}, /*dim=*/1) + pos_embed_;
  for (const auto& block : *blocks_) x = block->as<BlockImpl>()->forward(x);
  // LayerNorm is per token, so normalising only the class token equals timm's norm-then-select.
  return head_(norm_(x.select(/*dim=*/1, /*index=*/0)));
}

void DeiTImpl::pretty_print(std::ostream& stream) const {
  stream << "robustness::DeiT(patch_size=" << options.patch_size()
         << ", embed_dim=" << options.embed_dim() << ", depth=" << options.depth()
         << ", num_heads=" << options.num_heads() << ", mlp_ratio=" << options.mlp_ratio()
         << ", image_size=" << options.image_size() << ", num_classes=" << options.num_classes()
         << ")";
}

}  // namespace robustness
