// MixUp / CutMix cost per batch (the DeiT recipe's mixing, timm's BATCH and ELEM modes), at the
// embedded default's shape (128 x 1 x 28 x 28) and at paper scale (64 x 3 x 224 x 224).
//
//   bazel run -c opt //robustness/augmentation:mixup_benchmark
#include <ATen/ATen.h>

#include "benchmark/benchmark.h"
#include "glog/logging.h"
#include "robustness/augmentation/mixup.h"
#include "robustness/base/seed.h"
#include "robustness/config/parse_text_proto.h"

namespace robustness {
namespace {

void Run(benchmark::State& state, const char* mode, double switch_prob) {
  const int64_t n = state.range(0), c = state.range(1), size = state.range(2);
  at::manual_seed(0);
  const at::Tensor images = at::rand({n, c, size, size});
  const at::Tensor labels = at::randint(0, 10, {n}, at::kLong);
  proto::MixupConfig config = ParseTextProtoOrDie<proto::MixupConfig>(
      R"pb(mixup_alpha: 0.8 cutmix_alpha: 1.0 cutmix_minmax { min: 0 max: 0 } prob: 1
           correct_lam: true)pb");
  config.set_switch_prob(switch_prob);
  proto::MixupConfig::Mode m;
  CHECK(proto::MixupConfig::Mode_Parse(mode, &m));
  config.set_mode(m);
  at::Generator check = MakeCpuGenerator(1);
  const MixedBatch probe = MixBatch(images, labels, 10, 0.1, config, check);
  CHECK(at::allclose(probe.targets.sum(1), at::ones({n})));  // check the output before timing
  uint64_t step = 0;
  for (auto _ : state) {
    at::Generator g = MakeCpuGenerator(++step);
    MixedBatch mixed = MixBatch(images, labels, 10, 0.1, config, g);
    benchmark::DoNotOptimize(mixed.images.data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * n);
}

void BM_Mixup_Batch(benchmark::State& state) { Run(state, "BATCH", 0.0); }
void BM_CutMix_Batch(benchmark::State& state) { Run(state, "BATCH", 1.0); }
void BM_MixupCutMix_Elem(benchmark::State& state) { Run(state, "ELEM", 0.5); }

#define SHAPES ->Args({128, 1, 28})->Args({64, 3, 224})->Unit(benchmark::kMillisecond)
BENCHMARK(BM_Mixup_Batch) SHAPES;
BENCHMARK(BM_CutMix_Batch) SHAPES;
BENCHMARK(BM_MixupCutMix_Elem) SHAPES;

}  // namespace
}  // namespace robustness
