#include "robustness/models/resnet.h"

#include <string>
#include <utility>

#include <glog/logging.h>
#include <torch/nn/init.h>

#include "robustness/models/ghost_batch_norm.h"

namespace robustness {
namespace {

using Activation = ResNetOptions::Activation;
using Norm = ResNetOptions::Norm;

torch::Tensor Activate(torch::Tensor x, Activation activation) {
  // In-place ReLU is safe here: it only ever follows BN or a residual add, whose backward passes
  // do not read their own output (torchvision uses ReLU(inplace=True) at the same places).
  return activation == Activation::kReLU ? x.relu_() : torch::gelu(x);
}

torch::nn::Conv2d Conv(int64_t in, int64_t out, int64_t kernel, int64_t stride) {
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2).bias(false));
}

torch::nn::AnyModule MakeNorm(int64_t channels, const ResNetOptions& options) {
  if (options.norm() == Norm::kGhostBatchNorm) {
    return torch::nn::AnyModule(
        GhostBatchNorm2d(GhostBatchNorm2dOptions(channels, options.virtual_batch_size())));
  }
  return torch::nn::AnyModule(torch::nn::BatchNorm2d(channels));
}

// One residual block; BASIC when `bottleneck` is false (conv3/bn3 absent), else BOTTLENECK.
// Submodule names match torchvision's BasicBlock / Bottleneck.
class ResidualBlockImpl : public torch::nn::Module {
 public:
  ResidualBlockImpl(bool bottleneck, int64_t in_channels, int64_t width, int64_t stride,
                    const ResNetOptions& options)
      : activation_(options.activation()) {
    const int64_t out_channels = bottleneck ? 4 * width : width;
    if (bottleneck) {
      conv1_ = register_module("conv1", Conv(in_channels, width, 1, 1));
      bn1_ = Register("bn1", MakeNorm(width, options));
      conv2_ = register_module("conv2", Conv(width, width, 3, stride));
      bn2_ = Register("bn2", MakeNorm(width, options));
      conv3_ = register_module("conv3", Conv(width, out_channels, 1, 1));
      bn3_ = Register("bn3", MakeNorm(out_channels, options));
    } else {
      conv1_ = register_module("conv1", Conv(in_channels, width, 3, stride));
      bn1_ = Register("bn1", MakeNorm(width, options));
      conv2_ = register_module("conv2", Conv(width, width, 3, 1));
      bn2_ = Register("bn2", MakeNorm(width, options));
    }
    if (stride != 1 || in_channels != out_channels) {
      downsample_ = torch::nn::Sequential();
      downsample_->push_back(Conv(in_channels, out_channels, 1, stride));
      downsample_->push_back(MakeNorm(out_channels, options));
      register_module("downsample", downsample_);
    }
  }

  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor out = Activate(bn1_.forward(conv1_(x)), activation_);
    out = bn2_.forward(conv2_(out));
    if (conv3_) out = bn3_.forward(conv3_(Activate(out, activation_)));
    torch::Tensor identity = downsample_ ? downsample_->forward(x) : x;
    return Activate(out + identity, activation_);
  }

 private:
  torch::nn::AnyModule Register(const std::string& name, torch::nn::AnyModule norm) {
    register_module(name, norm.ptr());
    return norm;
  }

  Activation activation_;
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
  torch::nn::AnyModule bn1_, bn2_, bn3_;
  torch::nn::Sequential downsample_{nullptr};
};

TORCH_MODULE(ResidualBlock);

const char* Name(ResNetOptions::Block block) {
  return block == ResNetOptions::Block::kBasic ? "basic" : "bottleneck";
}
const char* Name(ResNetOptions::Stem stem) {
  return stem == ResNetOptions::Stem::kSmall ? "small" : "imagenet";
}
const char* Name(Activation activation) {
  return activation == Activation::kReLU ? "relu" : "gelu";
}

void CheckOptions(const ResNetOptions& options) {
  CHECK_GE(options.in_channels(), 1);
  CHECK_GE(options.base_width(), 1);
  CHECK(!options.stage_depths().empty()) << "ResNet needs at least one stage";
  for (int64_t depth : options.stage_depths()) CHECK_GE(depth, 1) << "empty ResNet stage";
  if (options.norm() == Norm::kGhostBatchNorm) {
    CHECK_GE(options.virtual_batch_size(), 1) << "ResNet: ghost BN needs virtual_batch_size >= 1";
  }
}

// Registers conv1, bn1 and layer1..layerK on `owner`, in torchvision's order.
resnet_internal::Trunk RegisterTrunk(torch::nn::Module& owner, const ResNetOptions& options) {
  resnet_internal::Trunk trunk;
  const bool small_stem = options.stem() == ResNetOptions::Stem::kSmall;
  trunk.conv1 = owner.register_module(
      "conv1", small_stem ? Conv(options.in_channels(), options.base_width(), 3, 1)
                          : Conv(options.in_channels(), options.base_width(), 7, 2));
  trunk.bn1 = MakeNorm(options.base_width(), options);
  owner.register_module("bn1", trunk.bn1.ptr());

  const bool bottleneck = options.block() == ResNetOptions::Block::kBottleneck;
  const int64_t expansion = bottleneck ? 4 : 1;
  int64_t channels = options.base_width();
  for (size_t stage = 0; stage < options.stage_depths().size(); ++stage) {
    const int64_t width = options.base_width() << stage;
    torch::nn::Sequential blocks;
    for (int64_t b = 0; b < options.stage_depths()[stage]; ++b) {
      const int64_t stride = (stage > 0 && b == 0) ? 2 : 1;
      blocks->push_back(ResidualBlock(bottleneck, channels, width, stride, options));
      channels = width * expansion;
    }
    trunk.stages.push_back(owner.register_module("layer" + std::to_string(stage + 1), blocks));
  }
  trunk.num_features = channels;
  return trunk;
}

// torchvision's init: kaiming-normal fan_out convs with the ReLU gain (also for GELU models, as
// the paper's ResNet-GELU only swaps the activation); BN 1/0 and Linear are already at their
// constructors' defaults. Runs after every layer is constructed, as torchvision's does, so the
// default generator is consumed in the same order.
void InitConvs(torch::nn::Module& owner) {
  for (const auto& module : owner.modules(/*include_self=*/false)) {
    if (auto* conv = module->as<torch::nn::Conv2dImpl>()) {
      torch::nn::init::kaiming_normal_(conv->weight, /*a=*/0, torch::kFanOut, torch::kReLU);
    }
  }
}

torch::Tensor TrunkForward(resnet_internal::Trunk& trunk, const ResNetOptions& options,
                           const torch::Tensor& normalized_images) {
  torch::Tensor x =
      Activate(trunk.bn1.forward(trunk.conv1(normalized_images)), options.activation());
  if (options.stem() == ResNetOptions::Stem::kImageNet) {
    x = torch::max_pool2d(x, /*kernel_size=*/3, /*stride=*/2, /*padding=*/1);
  }
  for (auto& stage : trunk.stages) x = stage->forward(x);
  return x;
}

void PrintOptions(std::ostream& stream, const ResNetOptions& options) {
  stream << "block=" << Name(options.block()) << ", depths=";
  for (size_t i = 0; i < options.stage_depths().size(); ++i) {
    stream << (i ? "-" : "") << options.stage_depths()[i];
  }
  stream << ", width=" << options.base_width() << ", stem=" << Name(options.stem())
         << ", activation=" << Name(options.activation());
  if (options.norm() == Norm::kGhostBatchNorm) {
    stream << ", ghost_bn=" << options.virtual_batch_size();
  }
}

}  // namespace

ResNetOptions::ResNetOptions(int64_t num_classes, std::vector<int64_t> stage_depths)
    : num_classes_(num_classes), stage_depths_(std::move(stage_depths)) {}

ResNetImpl::ResNetImpl(ResNetOptions options_) : options(std::move(options_)) {
  CHECK_GE(options.num_classes(), 1);
  CheckOptions(options);
  CHECK_EQ(static_cast<int64_t>(options.normalize().mean().size()), options.in_channels())
      << "ResNet: normalisation statistics must have one entry per input channel";

  normalize_ = register_module("normalize", Normalize(options.normalize()));
  trunk_ = RegisterTrunk(*this, options);
  fc_ = register_module("fc", torch::nn::Linear(trunk_.num_features, options.num_classes()));
  InitConvs(*this);
}

torch::Tensor ResNetImpl::forward(const torch::Tensor& images) {
  torch::Tensor x = TrunkForward(trunk_, options, normalize_(images));
  // Global average pool: the same as adaptive_avg_pool2d to 1x1 followed by flatten.
  return fc_(x.mean({2, 3}));
}

void ResNetImpl::pretty_print(std::ostream& stream) const {
  stream << "robustness::ResNet(";
  PrintOptions(stream, options);
  stream << ", num_classes=" << options.num_classes() << ")";
}

ResNetTrunkImpl::ResNetTrunkImpl(ResNetOptions options_) : options(std::move(options_)) {
  CheckOptions(options);
  trunk_ = RegisterTrunk(*this, options);
  InitConvs(*this);
}

torch::Tensor ResNetTrunkImpl::forward_features(const torch::Tensor& normalized_images) {
  CHECK_EQ(normalized_images.dim(), 4)
      << "ResNetTrunk expects [N, C, H, W], got " << normalized_images.sizes();
  return TrunkForward(trunk_, options, normalized_images);
}

int64_t ResNetTrunkImpl::stride() const {
  const int64_t stem = options.stem() == ResNetOptions::Stem::kImageNet ? 4 : 1;
  return stem << (options.stage_depths().size() - 1);
}

void ResNetTrunkImpl::pretty_print(std::ostream& stream) const {
  stream << "robustness::ResNetTrunk(";
  PrintOptions(stream, options);
  stream << ", stride=" << stride() << ")";
}

}  // namespace robustness
