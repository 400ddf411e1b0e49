// Cost of Gram-matching texture synthesis (research/patch_attack.md section 6: the dictionary's
// dominant cost, 30 textures x 10,000 iterations per class in the reference). One iteration of
// the benchmark = `iterations` Adam steps on a batch of textures; items_per_second counts
// texture-iterations (one texture, one step), so one texture's full synthesis takes
// 10,000 / items_per_second seconds at that batch size. CPU, 2 intra-op threads.
//
//   bazel run -c opt //robustness/textures:texture_synthesis_benchmark -- --benchmark_min_time=3
//
// Fashion: the embedded feature network (robustness/models/configs/fashion_mnist_vgg_features.
// pbtxt), 28 px, the class's 10 textures in one batch. VGG19: torchvision's VGG-19 at 224 px,
// batches of 1 (the reference's) and 4 textures (random weights: timing does not depend on
// them).
#include <cstdint>
#include <vector>

#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>
#include <torch/types.h>

#include "robustness/base/seed.h"
#include "robustness/models/vgg.h"
#include "robustness/textures/texture_synthesis.h"

namespace robustness {
namespace {

void RunSynthesis(benchmark::State& state, VGG vgg, int64_t textures, int64_t size,
                  int iterations) {
  at::set_num_threads(2);
  vgg->eval();
  torch::Generator data = MakeCpuGenerator(0);
  std::vector<torch::Tensor> targets;
  {
    torch::NoGradGuard no_grad;
    targets = StyleGrams(*vgg, torch::rand({textures, vgg->options().in_channels(), size, size},
                                           data));
  }
  proto::TextureSynthesisConfig config;
  config.set_iterations(iterations);
  config.set_learning_rate(0.01);
  config.set_loss_scale(1e6);
  torch::Generator gen = MakeCpuGenerator(1);
  SynthesizeTextures(*vgg, targets, size, config, gen);  // warm-up
  for (auto _ : state) {
    SynthesisResult r = SynthesizeTextures(*vgg, targets, size, config, gen);
    benchmark::DoNotOptimize(r.textures.data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * textures * iterations);
}

void BM_Synthesis_Fashion(benchmark::State& state) {
  torch::manual_seed(0);
  RunSynthesis(state,
               VGG(VGGOptions(10, 1)
                       .stage_convs({2, 2, 4})
                       .stage_widths({16, 32, 64})
                       .pool_size(1)
                       .classifier_width(128)
                       .normalize(NormalizeOptions({0.286}, {0.353}))),
               10, 28, 50);
}
BENCHMARK(BM_Synthesis_Fashion)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Synthesis_VGG19(benchmark::State& state) {
  torch::manual_seed(0);
  RunSynthesis(state, VGG(VGGOptions(1000, 3)), state.range(0), 224, 2);
}
BENCHMARK(BM_Synthesis_VGG19)->Arg(1)->Arg(4)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace robustness

// main(): robustness/base/benchmark_main.cc.
