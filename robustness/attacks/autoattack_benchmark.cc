// AutoAttack's hot loops on the embedded Fashion-MNIST size (batch 128 of [1, 28, 28], 10
// classes, CPU, 2 intra-op threads), ResNet-18 layout at width 16 with the SMALL stem (random
// weights; timing does not depend on them). items_per_second is images per second through:
//   ApgdIteration:  one APGD-CE step (one forward-backward pass plus the step arithmetic), from
//                   a 10-step run with fooled images kept (so every step sees the whole batch);
//   ApgdTIteration: the same for targeted DLR;
//   SquareQuery:    one Square query batch (window draw, clip, one forward pass, acceptance);
//   FabTIteration:  one FAB-T iteration (forward-backward, the two projections of the batch onto
//                   its hyperplanes, the step, the is-adversarial forward), L-inf and L2, from a
//                   10-iteration run on the model's own predictions with no early stop;
//   FabProjection:  the projection alone on 2 x 128 rows of 784 (rows per second).
//
//   bazel run -c opt //robustness/attacks:autoattack_benchmark
#include <cstdint>
#include <tuple>

#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>
#include <torch/types.h>

#include "robustness/attacks/apgd.h"
#include "robustness/attacks/fab.h"
#include "robustness/attacks/square.h"
#include "robustness/base/seed.h"
#include "robustness/config/parse_text_proto.h"
#include "robustness/models/model_factory.h"
#include "robustness/proto/model.pb.h"

namespace robustness {
namespace {

constexpr int64_t kBatch = 128;
constexpr int kSteps = 10;

ImageClassifier ResNet() {
  at::manual_seed(0);
  absl::StatusOr<ImageClassifier> model = CreateModel(ParseTextProtoOrDie<proto::ModelConfig>(R"pb(
    num_classes: 10 in_channels: 1 image_size: 28 normalization { mean: 0.286 std: 0.353 }
    resnet { block: BASIC stage_depths: [2, 2, 2, 2] base_width: 16 stem: SMALL
             activation: RELU batch_norm {} })pb"));
  CHECK(model.ok()) << model.status();
  (*model)->eval();
  return *model;
}

void BM_ApgdIteration(benchmark::State& state, proto::ApgdLoss loss) {
  at::set_num_threads(2);
  ImageClassifier model = ResNet();
  torch::Generator data = MakeCpuGenerator(0);
  const torch::Tensor x = torch::rand({kBatch, 1, 28, 28}, data);
  const torch::Tensor y = torch::randint(10, {kBatch}, data, torch::kLong);
  const torch::Tensor targets = (y + 1).remainder(10);
  ApgdOptions o;
  o.epsilon = 4.0 / 255;
  o.loss = loss;
  o.num_iterations = kSteps;
  o.stop_when_fooled = false;
  torch::Generator gen = MakeCpuGenerator(1);
  const torch::Tensor t = loss == proto::DLR_TARGETED ? targets : torch::Tensor();
  ApgdSingleRun(*model, x, y, t, o, gen);  // warm-up
  for (auto _ : state) {
    const ApgdRunResult r = ApgdSingleRun(*model, x, y, t, o, gen);
    benchmark::DoNotOptimize(r.loss_best.data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * kBatch * kSteps);
}

void BM_SquareQuery(benchmark::State& state) {
  at::set_num_threads(2);
  ImageClassifier model = ResNet();
  torch::Generator data = MakeCpuGenerator(0);
  const torch::Tensor x = torch::rand({kBatch, 1, 28, 28}, data);
  // Labels the model gets right with a wide margin would stop nothing; random labels leave most
  // images with a negative margin, so use the model's own predictions: all start active.
  torch::Tensor y;
  {
    torch::NoGradGuard no_grad;
    y = model->forward(x).argmax(1);
  }
  SquareOptions o{4.0 / 255, kSteps, 0.8, 1};
  torch::Generator gen = MakeCpuGenerator(1);
  SquareSingleRun(*model, x, y, o, gen);
  for (auto _ : state) {
    const SquareRunResult r = SquareSingleRun(*model, x, y, o, gen);
    benchmark::DoNotOptimize(r.margin.data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * kBatch * kSteps);
}

void BM_FabTIteration(benchmark::State& state, LpNorm norm) {
  at::set_num_threads(2);
  ImageClassifier model = ResNet();
  torch::Generator data = MakeCpuGenerator(0);
  const torch::Tensor x = torch::rand({kBatch, 1, 28, 28}, data);
  torch::Tensor y, targets;
  {
    torch::NoGradGuard no_grad;
    const torch::Tensor logits = model->forward(x);
    y = logits.argmax(1);
    targets = std::get<1>(logits.sort(1)).select(1, 8).contiguous();  // the 2nd largest
  }
  FabOptions o;
  o.norm = norm;
  o.epsilon = norm == LpNorm::kLinf ? 4.0 / 255 : 0.5;
  o.num_iterations = kSteps;
  o.stop_when_accepted = false;
  torch::Generator gen = MakeCpuGenerator(1);
  FabSingleRun(*model, x, y, targets, o, /*random_start=*/false, gen);  // warm-up
  for (auto _ : state) {
    const FabRunResult r = FabSingleRun(*model, x, y, targets, o, /*random_start=*/false, gen);
    benchmark::DoNotOptimize(r.best_norm.data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * kBatch * kSteps);
}

void BM_FabProjection(benchmark::State& state, LpNorm norm) {
  at::set_num_threads(2);
  torch::Generator data = MakeCpuGenerator(0);
  const torch::Tensor t = torch::rand({2 * kBatch, 784}, data);
  const torch::Tensor w = torch::randn({2 * kBatch, 784}, data);
  const torch::Tensor b = (w * torch::rand({2 * kBatch, 784}, data)).sum(1);
  for (auto _ : state) {
    const torch::Tensor d = FabProjection(norm, t, w, b);
    benchmark::DoNotOptimize(d.data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * 2 * kBatch);
}

BENCHMARK_CAPTURE(BM_ApgdIteration, CE, proto::CE)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ApgdIteration, DlrTargeted, proto::DLR_TARGETED)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SquareQuery)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_FabTIteration, Linf, LpNorm::kLinf)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_FabTIteration, L2, LpNorm::kL2)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_FabProjection, Linf, LpNorm::kLinf)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_FabProjection, L2, LpNorm::kL2)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace robustness
