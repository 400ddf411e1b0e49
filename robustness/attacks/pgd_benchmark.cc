// Throughput of one PGD-10 L-inf attack (PAPER.md 3.7: eps 4/255, step 1/255, random start,
// untargeted) on a batch of 128 [1, 28, 28] images (the embedded Fashion-MNIST size, 10 classes),
// CPU, 2 intra-op threads. items_per_second is attacked images per second; one iteration is
// 10 forward-backward passes w.r.t. the input. Compare with the plain PyTorch reference (same
// models, shapes, threads and algorithm):
//
//   bazel run -c opt //robustness/attacks:pgd_benchmark -- --benchmark_min_time=3
//   /usr/bin/python3 tools/side_by_side/pgd_reference.py --min_time 3
//
// Models: ToyModel = attacks_internal::SmallConvNet (two conv-BN-ReLU-pool blocks + linear);
// ResNet = ResNet-18 layout (BASIC 2-2-2-2) at width 16 with the SMALL stem; DeiT = patch 7,
// dim 128, depth 6, 4 heads, MLP ratio 4 (the models of robustness/models/model_benchmark.cc,
// built through CreateModel). Weights are random: timing does not depend on them.
#include <cstdint>
#include <memory>
#include <string>

#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>
#include <torch/types.h>

#include "robustness/attacks/internal/toy_models.h"
#include "robustness/attacks/pgd.h"
#include "robustness/base/seed.h"
#include "robustness/config/parse_text_proto.h"
#include "robustness/models/image_classifier.h"
#include "robustness/models/model_factory.h"
#include "robustness/proto/attack.pb.h"
#include "robustness/proto/model.pb.h"

namespace robustness {
namespace {

constexpr int64_t kBatch = 128;
constexpr int64_t kClasses = 10;
constexpr int kThreads = 2;
constexpr double kEpsilon = 4.0 / 255;

constexpr char kPgd10[] = R"pb(
  norm: LINF num_steps: 10 step_absolute { over_255: 1 } random_start: true restarts: 1
  target_mode: UNTARGETED)pb";

constexpr char kModelCommon[] = R"pb(
  num_classes: 10 in_channels: 1 image_size: 28
  normalization { mean: 0.286 std: 0.353 })pb";

void RunPgd(benchmark::State& state, ImageClassifierImpl& model) {
  at::set_num_threads(kThreads);
  torch::Generator data = MakeCpuGenerator(0);
  const torch::Tensor images = torch::rand({kBatch, 1, 28, 28}, data);
  const torch::Tensor labels = torch::randint(kClasses, {kBatch}, data, torch::kLong);
  const Pgd pgd("PGD-10", ParseTextProtoOrDie<proto::PgdConfig>(kPgd10), kEpsilon);
  torch::Generator gen = MakeCpuGenerator(1);

  // Check (and warm up: first-call allocations, oneDNN primitive creation) before timing.
  const torch::Tensor x = pgd.Perturb(model, images, labels, gen);
  const double linf = (x - images).abs().max().item<double>();
  if (x.sizes() != images.sizes() || linf > kEpsilon + 1e-6 || linf < 0.5 * kEpsilon ||
      x.min().item<double>() < 0.0 || x.max().item<double>() > 1.0) {
    state.SkipWithError("PGD output outside the eps-ball or [0, 1]");
    return;
  }
  for (auto _ : state) {
    torch::Tensor adv = pgd.Perturb(model, images, labels, gen);
    benchmark::DoNotOptimize(adv.data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void RunPgdOnConfig(benchmark::State& state, const std::string& architecture) {
  torch::manual_seed(0);
  absl::StatusOr<ImageClassifier> model =
      CreateModel(ParseTextProtoOrDie<proto::ModelConfig>(kModelCommon + architecture));
  if (!model.ok()) {
    state.SkipWithError(std::string(model.status().message()).c_str());
    return;
  }
  RunPgd(state, **model);
}

void BM_Pgd_ToyModel(benchmark::State& state) {
  attacks_internal::SmallConvNet model(/*channels=*/1, /*image_size=*/28, kClasses, /*seed=*/0);
  RunPgd(state, model);
}
BENCHMARK(BM_Pgd_ToyModel)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Pgd_ResNet(benchmark::State& state) {
  RunPgdOnConfig(state, R"pb(
    resnet {
      block: BASIC stage_depths: [ 2, 2, 2, 2 ] base_width: 16 stem: SMALL activation: RELU
      batch_norm {}
    })pb");
}
BENCHMARK(BM_Pgd_ResNet)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Pgd_DeiT(benchmark::State& state) {
  RunPgdOnConfig(state, R"pb(
    deit {
      patch_size: 7 embed_dim: 128 depth: 6 num_heads: 4 mlp_ratio: 4
      init: TIMM drop_path_rate: 0 distillation_token: false
    })pb");
}
BENCHMARK(BM_Pgd_DeiT)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace robustness

// main(): robustness/base/benchmark_main.cc.
