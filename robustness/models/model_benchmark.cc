// Throughput of the model zoo on the CPU with 2 intra-op threads. Compare against the plain
// PyTorch twin in tools/side_by_side/ (same architectures, shapes, thread count and case names):
//
//   bazel run -c opt //robustness/models:model_benchmark -- --benchmark_min_time=3
//   /usr/bin/python3 tools/side_by_side/models_reference.py --min_time 3
//   /usr/bin/python3 tools/side_by_side/compare.py          (both, alternating, with ratios)
//
// Two groups of cases.
//
// 1. Zoo cases, BM_<Model>_<Mode>_B<batch>, each model built by CreateModel from its checked-in
//    config in robustness/models/configs/ (read relative to the working directory: the runfiles
//    root under `bazel run`, or the checkout root):
//      224 px, 1000 classes, batch 1 and 64:  ResNet50 (resnet50.pbtxt), DeiTS (deit_s.pbtxt),
//                                              HybridDeiT (hybrid_deit.pbtxt);
//      28 px Fashion-MNIST, 10 classes, batch 1 and 128 (the experiment's batch):
//        FmnistResNet (fashion_mnist_resnet18_w16.pbtxt), FmnistDeiT (fashion_mnist_deit_p7_d96).
//    Modes: Forward = inference, eval() mode under NoGradGuard; FwdBwd = train() mode, forward +
//    cross-entropy + backward into freshly cleared gradients (zero_grad(set_to_none)), no
//    optimizer step.
//    Counters: items_per_second = images/s; GFLOP = the achieved rate in GFLOP/s (printed as
//    "GFLOP=x/s"), from the forward FLOPs that CountForwardFlops (flop_counter.h: 2 x MACs of convs, linear layers and matmuls) measures on
//    the model, x 3 for FwdBwd (each conv / linear / matmul has two backward products of its
//    forward size, for the input and the weight gradient: the usual 3x convention; the first
//    layer's unused input gradient is not subtracted).
//    The 224 px batch-64 cases time exactly one iteration (each is seconds: ResNet-50 FwdBwd is
//    ~1.6 TFLOP) after the check step, so the whole suite stays within a few minutes.
//
// 2. Legacy cases from before the zoo cases (kept so earlier measurements stay comparable, and
//    twins of robustness/attacks/pgd_benchmark.cc's models): BM_ResNet_* (= FmnistResNet) and
//    BM_DeiT_* (DeiT p7 d128 x6 h4, 1,199,882 params), batch 128; TrainStep = FwdBwd + an SGD
//    (momentum 0.9) step.
//
// Every case checks its output (logits shape and finiteness, finite loss and gradients) before
// timing; that step doubles as the warm-up (first-call allocations, oneDNN primitive creation).
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim/sgd.h>
#include <torch/utils.h>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "robustness/config/text_proto_file.h"
#include "robustness/models/deit.h"
#include "robustness/models/flop_counter.h"
#include "robustness/models/image_classifier.h"
#include "robustness/models/model_factory.h"
#include "robustness/models/normalize.h"
#include "robustness/models/resnet.h"
#include "robustness/proto/model.pb.h"

namespace robustness {
namespace {

constexpr int kThreads = 2;

// ---- Zoo cases -------------------------------------------------------------------------------

struct ZooModel {
  proto::ModelConfig config;
  ImageClassifier model;
  int64_t flops_per_image = 0;  // Forward.
};

absl::StatusOr<ZooModel> LoadZooModel(const std::string& config_name) {
  const std::string path = absl::StrCat("robustness/models/configs/", config_name, ".pbtxt");
  ZooModel zoo;
  absl::StatusOr<proto::ModelConfig> config = ReadTextProtoFile<proto::ModelConfig>(path);
  if (!config.ok()) return config.status();
  zoo.config = *config;
  torch::manual_seed(0);
  absl::StatusOr<ImageClassifier> model = CreateModel(zoo.config);
  if (!model.ok()) return model.status();
  zoo.model = *model;
  // FLOPs are linear in the batch for every zoo model, so one image is counted.
  const int64_t size = zoo.config.image_size();
  zoo.flops_per_image =
      CountForwardFlops(*zoo.model, torch::rand({1, zoo.config.in_channels(), size, size}))
          .total_flops;
  return zoo;
}

void SetCounters(benchmark::State& state, int64_t batch, double flops_per_image) {
  const double images = static_cast<double>(state.iterations() * batch);
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["GFLOP"] =
      benchmark::Counter(images * flops_per_image / 1e9, benchmark::Counter::kIsRate);
}

bool CheckLogits(benchmark::State& state, const torch::Tensor& logits, int64_t batch,
                 int64_t classes) {
  if (logits.sizes() != torch::IntArrayRef({batch, classes}) ||
      !logits.isfinite().all().item<bool>()) {
    state.SkipWithError("bad logits shape or non-finite logits");
    return false;
  }
  return true;
}

void ZooForward(benchmark::State& state, const std::string& config_name, int64_t batch) {
  at::set_num_threads(kThreads);
  absl::StatusOr<ZooModel> zoo = LoadZooModel(config_name);
  if (!zoo.ok()) {
    state.SkipWithError(std::string(zoo.status().message()).c_str());
    return;
  }
  ImageClassifier model = zoo->model;
  model->eval();
  torch::NoGradGuard no_grad;
  const int64_t size = zoo->config.image_size();
  const torch::Tensor images = torch::rand({batch, zoo->config.in_channels(), size, size});
  if (!CheckLogits(state, model->forward(images), batch, zoo->config.num_classes())) return;
  for (auto _ : state) benchmark::DoNotOptimize(model->forward(images));
  SetCounters(state, batch, static_cast<double>(zoo->flops_per_image));
}

void ZooForwardBackward(benchmark::State& state, const std::string& config_name, int64_t batch) {
  at::set_num_threads(kThreads);
  absl::StatusOr<ZooModel> zoo = LoadZooModel(config_name);
  if (!zoo.ok()) {
    state.SkipWithError(std::string(zoo.status().message()).c_str());
    return;
  }
  ImageClassifier model = zoo->model;
  model->train();
  const int64_t size = zoo->config.image_size();
  const int64_t classes = zoo->config.num_classes();
  const torch::Tensor images = torch::rand({batch, zoo->config.in_channels(), size, size});
  const torch::Tensor labels = torch::randint(classes, {batch}, torch::kLong);
  auto step = [&] {
    model->zero_grad(/*set_to_none=*/true);
    torch::Tensor loss = torch::nn::functional::cross_entropy(model->forward(images), labels);
    loss.backward();
    return loss;
  };

  // Only the number is kept, as in the Python twin. Holding the check step's loss tensor (and so
  // its autograd graph) through the timed step raised DeiT-S batch 64's peak RSS from 5.9 to
  // 8.5 GB and its step from ~35 to ~50 s (2026-11-29, 2-core AMD EPYC, LibTorch 1.13.1).
  const double loss = step().item<double>();
  bool gradients_ok = true;
  for (const torch::Tensor& p : model->parameters()) {
    gradients_ok = gradients_ok && p.grad().defined() && p.grad().isfinite().all().item<bool>();
  }
  if (!std::isfinite(loss) || !gradients_ok) {
    state.SkipWithError("non-finite loss, or a missing or non-finite gradient");
    return;
  }
  for (auto _ : state) benchmark::DoNotOptimize(step());
  SetCounters(state, batch, 3.0 * static_cast<double>(zoo->flops_per_image));
}

struct ZooCase {
  const char* name;    // BM_<name>_<Mode>_B<batch>
  const char* config;  // robustness/models/configs/<config>.pbtxt
  int64_t small_batch, large_batch;
  bool one_iteration_at_large_batch;
};

constexpr ZooCase kZooCases[] = {
    {"ResNet50", "resnet50", 1, 64, true},
    {"DeiTS", "deit_s", 1, 64, true},
    {"HybridDeiT", "hybrid_deit", 1, 64, true},
    {"FmnistResNet", "fashion_mnist_resnet18_w16", 1, 128, false},
    {"FmnistDeiT", "fashion_mnist_deit_p7_d96", 1, 128, false},
};

const bool kZooRegistered = [] {
  for (const ZooCase& c : kZooCases) {
    for (const int64_t batch : {c.small_batch, c.large_batch}) {
      const bool one_iteration = c.one_iteration_at_large_batch && batch == c.large_batch;
      for (const bool backward : {false, true}) {
        const std::string name =
            absl::StrCat("BM_", c.name, backward ? "_FwdBwd_B" : "_Forward_B", batch);
        const std::string config = c.config;
        auto* b = benchmark::RegisterBenchmark(
            name.c_str(), [config, batch, backward](benchmark::State& state) {
              backward ? ZooForwardBackward(state, config, batch)
                       : ZooForward(state, config, batch);
            });
        b->Unit(benchmark::kMillisecond)->UseRealTime();
        if (one_iteration) b->Iterations(1);
      }
    }
  }
  return true;
}();

// ---- Legacy cases ----------------------------------------------------------------------------

constexpr int64_t kBatch = 128;
constexpr int64_t kClasses = 10;

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

  // Check (and warm up: first-call allocations, oneDNN primitive creation) before timing. Only
  // sizes and numbers are kept, as in the Python twin: held tensors would keep their autograd
  // graphs (a whole batch's activations) alive through the timed steps.
  const std::vector<int64_t> logits_shape = model->forward(images).sizes().vec();
  const double loss = step().item<double>();
  if (logits_shape != std::vector<int64_t>({kBatch, kClasses}) || !std::isfinite(loss)) {
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

  if (!CheckLogits(state, model->forward(images), kBatch, kClasses)) return;
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

// main(): robustness/base/benchmark_main.cc.
