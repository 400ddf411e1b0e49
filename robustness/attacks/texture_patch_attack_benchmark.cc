// Cost of the Texture Patch Attack's agent: one RL step = sample queries_per_step = 500
// trajectories from the LSTM policy, paste each patch, query the victim on the 500 images, one
// REINFORCE update (research/patch_attack.md section 6). Each iteration runs one agent for
// exactly 3 steps (the reference's minimum); items_per_second counts queries, so a step takes
// 500 / items_per_second seconds. CPU, 2 intra-op threads.
//
//   bazel run -c opt //robustness/attacks:texture_patch_attack_benchmark -- --benchmark_min_time=3
//
// AgentOnly: a victim of one linear layer over the pixels, so the time is the attack's own
// (policy, pasting, the update) at 28 px and 224 px. ResNet: the embedded Table 3 victim's
// architecture (ResNet-18/4, random weights) at 28 px, where the victim's 500 forwards dominate.
// At 224 px the victim's cost is its forward throughput (robustness/models:model_benchmark).
#include <cstdint>
#include <string>

#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>
#include <torch/types.h>

#include "robustness/attacks/internal/toy_models.h"
#include "robustness/attacks/texture_patch_attack.h"
#include "robustness/base/seed.h"
#include "robustness/config/parse_text_proto.h"
#include "robustness/models/model_factory.h"

namespace robustness {
namespace {

constexpr int kThreads = 2;
constexpr int64_t kQueries = 500;

proto::PatchAttackConfig ThreeSteps() {
  proto::PatchAttackConfig c;
  c.set_num_patches(1);
  c.set_area_fraction(0.025);
  c.set_area_mode(proto::PatchAttackConfig::PER_PATCH);
  c.set_goal(proto::PatchAttackConfig::NON_TARGETED);
  c.set_texture_class(-1);
  c.set_queries_per_step(kQueries);
  c.set_max_steps(3);
  c.set_min_steps(3);
  c.set_policy_learning_rate(0.03);
  c.set_curvature_bound(1e-4);
  c.set_hidden_size(30);
  c.set_query_budget(3 * kQueries);
  c.set_eval_batch_size(kQueries);
  return c;
}

void RunAgent(benchmark::State& state, ImageClassifierImpl& victim, int64_t channels,
              int64_t size) {
  at::set_num_threads(kThreads);
  victim.eval();
  torch::Generator data = MakeCpuGenerator(0);
  const torch::Tensor image = torch::rand({channels, size, size}, data);
  const torch::Tensor textures = torch::rand({30, channels, size, size}, data);
  const TexturePatchAttack attack(ThreeSteps());
  torch::Generator gen = MakeCpuGenerator(1);
  // The label the victim gives, so the attack has something to do; warm-up run first.
  const int64_t label = victim.forward(image.unsqueeze(0)).argmax(1).item<int64_t>();
  TpaOutcome out = attack.Run(victim, image, label, textures, -1, gen);
  if (out.queries != 3 * kQueries && !out.success) {
    state.SkipWithError("the agent did not run its 3 steps");
    return;
  }
  for (auto _ : state) {
    out = attack.Run(victim, image, label, textures, -1, gen);
    benchmark::DoNotOptimize(out.adversarial.data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * out.queries);
}

void BM_AgentOnly(benchmark::State& state) {
  const int64_t size = state.range(0), channels = size == 28 ? 1 : 3;
  attacks_internal::LinearClassifier victim(channels * size * size, 10, /*seed=*/0);
  RunAgent(state, victim, channels, size);
}
BENCHMARK(BM_AgentOnly)->Arg(28)->Arg(224)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Agent_ResNet18w16_28px(benchmark::State& state) {
  torch::manual_seed(0);
  absl::StatusOr<ImageClassifier> model = CreateModel(ParseTextProtoOrDie<proto::ModelConfig>(R"pb(
    num_classes: 10 in_channels: 1 image_size: 28
    normalization { mean: 0.286 std: 0.353 }
    resnet {
      block: BASIC stage_depths: [ 2, 2, 2, 2 ] base_width: 16 stem: SMALL activation: RELU
      batch_norm {}
    })pb"));
  if (!model.ok()) {
    state.SkipWithError(std::string(model.status().message()).c_str());
    return;
  }
  RunAgent(state, **model, 1, 28);
}
BENCHMARK(BM_Agent_ResNet18w16_28px)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace robustness

// main(): robustness/base/benchmark_main.cc.
