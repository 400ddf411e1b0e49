#include "robustness/models/vgg.h"

#include <algorithm>
#include <cmath>

#include <glog/logging.h>
#include <torch/nn/functional/pooling.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>

namespace robustness {

namespace F = torch::nn::functional;

VGGOptions::VGGOptions(int64_t num_classes, int64_t in_channels)
    : num_classes_(num_classes), in_channels_(in_channels) {}

VGGImpl::VGGImpl(VGGOptions options) : options_(std::move(options)) {
  CHECK_GE(options_.num_classes(), 1);
  CHECK_GE(options_.in_channels(), 1);
  CHECK(!options_.stage_convs().empty());
  CHECK_EQ(options_.stage_convs().size(), options_.stage_widths().size());
  CHECK_GE(options_.pool_size(), 1);
  CHECK_GE(options_.classifier_width(), 1);
  CHECK(options_.dropout() >= 0 && options_.dropout() < 1) << options_.dropout();
  CHECK_EQ(static_cast<int64_t>(options_.normalize().mean().size()), options_.in_channels());
  normalize_ = register_module("normalize", Normalize(options_.normalize()));
  features_ = torch::nn::Sequential();
  int64_t channels = options_.in_channels();
  for (size_t s = 0; s < options_.stage_convs().size(); ++s) {
    CHECK_GE(options_.stage_convs()[s], 1);
    CHECK_GE(options_.stage_widths()[s], 1);
    for (int64_t c = 0; c < options_.stage_convs()[s]; ++c) {
      torch::nn::Conv2d conv(
          torch::nn::Conv2dOptions(channels, options_.stage_widths()[s], 3).padding(1));
      torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
      torch::nn::init::zeros_(conv->bias);
      features_->push_back(conv);
      kinds_.push_back(Kind::kConv);
      convs_.push_back(conv);
      features_->push_back(torch::nn::ReLU());
      kinds_.push_back(Kind::kReLU);
      convs_.push_back(nullptr);
      channels = options_.stage_widths()[s];
    }
    features_->push_back(torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(2).stride(2)));
    kinds_.push_back(Kind::kPool);
    convs_.push_back(nullptr);
  }
  register_module("features", features_);
  const int64_t p = options_.pool_size(), width = options_.classifier_width();
  classifier_ = torch::nn::Sequential(
      torch::nn::Linear(channels * p * p, width), torch::nn::ReLU(),
      torch::nn::Dropout(options_.dropout()), torch::nn::Linear(width, width), torch::nn::ReLU(),
      torch::nn::Dropout(options_.dropout()), torch::nn::Linear(width, options_.num_classes()));
  for (const auto& child : classifier_->children()) {
    if (auto* linear = child->as<torch::nn::LinearImpl>()) {
      torch::nn::init::normal_(linear->weight, 0.0, 0.01);
      torch::nn::init::zeros_(linear->bias);
    }
  }
  register_module("classifier", classifier_);
}

std::vector<int64_t> VGGImpl::StyleLayers() const {
  std::vector<int64_t> layers;
  bool stage_start = true;
  for (size_t i = 0; i < kinds_.size(); ++i) {
    if (kinds_[i] == Kind::kReLU && stage_start) {
      layers.push_back(static_cast<int64_t>(i));
      stage_start = false;
    }
    if (kinds_[i] == Kind::kPool) stage_start = true;
  }
  return layers;
}

int64_t VGGImpl::CamLayer() const { return static_cast<int64_t>(kinds_.size()) - 2; }

torch::Tensor VGGImpl::RunLayer(int64_t index, const torch::Tensor& x, bool average_pool) {
  switch (kinds_[index]) {
    case Kind::kConv:
      return convs_[index]->forward(x);
    case Kind::kReLU:
      return torch::relu(x);
    case Kind::kPool:
      return average_pool ? F::avg_pool2d(x, F::AvgPool2dFuncOptions(2).stride(2))
                          : F::max_pool2d(x, F::MaxPool2dFuncOptions(2).stride(2));
  }
  LOG(FATAL) << "unknown layer kind";
}

torch::Tensor VGGImpl::Head(const torch::Tensor& features_out) {
  torch::Tensor x = F::adaptive_avg_pool2d(
      features_out, F::AdaptiveAvgPool2dFuncOptions({options_.pool_size(), options_.pool_size()}));
  return classifier_->forward(x.flatten(1));
}

torch::Tensor VGGImpl::forward(const torch::Tensor& images) {
  torch::Tensor x = normalize_(images);
  for (int64_t i = 0; i < static_cast<int64_t>(kinds_.size()); ++i) x = RunLayer(i, x, false);
  return Head(x);
}

std::vector<torch::Tensor> VGGImpl::FeatureMaps(const torch::Tensor& images,
                                                const std::vector<int64_t>& layers,
                                                bool average_pool) {
  CHECK(!layers.empty());
  const int64_t last = *std::max_element(layers.begin(), layers.end());
  CHECK_LT(last, static_cast<int64_t>(kinds_.size()));
  std::vector<torch::Tensor> taps(kinds_.size());
  torch::Tensor x = normalize_(images);
  for (int64_t i = 0; i <= last; ++i) {
    x = RunLayer(i, x, average_pool);
    taps[i] = x;
  }
  std::vector<torch::Tensor> out;
  for (int64_t layer : layers) {
    CHECK_GE(layer, 0);
    out.push_back(taps[layer]);
  }
  return out;
}

torch::Tensor VGGImpl::LogitsFrom(const torch::Tensor& activation, int64_t layer) {
  CHECK(layer >= 0 && layer < static_cast<int64_t>(kinds_.size()));
  torch::Tensor x = activation;
  for (int64_t i = layer + 1; i < static_cast<int64_t>(kinds_.size()); ++i) {
    x = RunLayer(i, x, false);
  }
  return Head(x);
}

}  // namespace robustness
