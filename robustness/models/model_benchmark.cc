// Throughput of the two model families at the embedded Fashion-MNIST size (batch 128 of
// [1, 28, 28] images, 10 classes), CPU, 2 intra-op threads. Compare against the plain PyTorch
// reference in tools/side_by_side/ (same architectures, shapes and thread count):
//
//   bazel run -c opt //robustness/models:model_benchmark -- --benchmark_min_time=3
//   /usr/bin/python3 tools/side_by_side/models_reference.py --min_time 3
//
// Models: ResNet-18 layout (BASIC 2-2-2-2) at width 16 with the SMALL stem (701,178 params);
// DeiT with patch 7 (16 tokens + CLS), dim 128, depth 6, 4 heads, MLP ratio 4 (1,199,882 params).
// TrainStep = forward + cross-entropy + backward + SGD (momentum 0.9) step, train() mode.
// Forward = inference: eval() mode under NoGradGuard. items_per_second is images per second.
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>

#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim/sgd.h>
#include <torch/utils.h>

#include "robustness/models/deit.h"
#include "robustness/models/image_classifier.h"
#include "robustness/models/normalize.h"
#include "robustness/models/resnet.h"

namespace robustness {
namespace {

constexpr int64_t kBatch = 128;
constexpr int64_t kClasses = 10;
constexpr int kThreads = 2;

ImageClassifier MakeResNet() {
  return std::make_shared<ResNetImpl>(ResNetOptions(kClasses, {2, 2, 2, 2})
                                          .block(ResNetOptions::Block::kBasic)
                                          .base_width(16)
                                          .stem(ResNetOptions::Stem::kSmall)
                                          .in_channels(1)
                                          .normalize(NormalizeOptions({0.286}, {0.353})));
}

ImageClassifier MakeDeiT() {
  return std::make_shared<DeiTImpl>(DeiTOptions(kClasses)
                                        .image_size(28)
                                        .patch_size(7)
                                        .in_channels(1)
                                        .embed_dim(128)
                                        .depth(6)
                                        .num_heads(4)
                                        .mlp_ratio(4.0)
                                        .normalize(NormalizeOptions({0.286}, {0.353})));
}

void TrainStep(benchmark::State& state, const std::function<ImageClassifier()>& make_model) {
  at::set_num_threads(kThreads);
  torch::manual_seed(0);
  ImageClassifier model = make_model();
  model->train();
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  const torch::Tensor images = torch::rand({kBatch, 1, 28, 28});
  const torch::Tensor labels = torch::randint(kClasses, {kBatch}, torch::kLong);
  auto step = [&] {
    optimizer.zero_grad();
    torch::Tensor loss = torch::nn::functional::cross_entropy(model->forward(images), labels);
    loss.backward();
    optimizer.step();
    return loss;
  };

  // Check (and warm up: first-call allocations, oneDNN primitive creation) before timing.
  const torch::Tensor logits = model->forward(images);
  const torch::Tensor loss = step();
  if (logits.sizes() != torch::IntArrayRef({kBatch, kClasses}) ||
      !std::isfinite(loss.item<double>())) {
    state.SkipWithError("bad logits shape or non-finite loss");
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(step());
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void Forward(benchmark::State& state, const std::function<ImageClassifier()>& make_model) {
  at::set_num_threads(kThreads);
  torch::manual_seed(0);
  ImageClassifier model = make_model();
  model->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor images = torch::rand({kBatch, 1, 28, 28});

  const torch::Tensor logits = model->forward(images);
  if (logits.sizes() != torch::IntArrayRef({kBatch, kClasses}) ||
      !logits.isfinite().all().item<bool>()) {
    state.SkipWithError("bad logits shape or non-finite logits");
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(model->forward(images));
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void BM_ResNet_TrainStep(benchmark::State& state) { TrainStep(state, MakeResNet); }
void BM_DeiT_TrainStep(benchmark::State& state) { TrainStep(state, MakeDeiT); }
void BM_ResNet_Forward(benchmark::State& state) { Forward(state, MakeResNet); }
void BM_DeiT_Forward(benchmark::State& state) { Forward(state, MakeDeiT); }

BENCHMARK(BM_ResNet_TrainStep)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_DeiT_TrainStep)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_ResNet_Forward)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_DeiT_Forward)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace robustness

BENCHMARK_MAIN();
