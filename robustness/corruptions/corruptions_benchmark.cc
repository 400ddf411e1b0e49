// Images/s of each corruption on one thread, at severity 3, for 28 x 28 grey (the embedded
// Fashion-MNIST, CIFAR-10-C constants), 32 x 32 and 224 x 224 RGB images (imagecorruptions'
// constants, as tools/side_by_side/corruptions_reference.py times the reference) (real photograph content is not needed
// for timing: a fixed random image; frost uses the embedded substitute textures when installed).
//   bazel run -c opt //robustness/corruptions:corruptions_benchmark
#include <filesystem>

#include "benchmark/benchmark.h"
#include "glog/logging.h"
#include "robustness/corruptions/corruption_names.h"
#include "robustness/corruptions/corruptor.h"

namespace robustness {
namespace {

const Corruptor& SharedCorruptor(proto::SeverityTable table) {
  static auto* corruptors = new std::map<int, Corruptor>;
  auto it = corruptors->find(table);
  if (it == corruptors->end()) {
    proto::CorruptionConfig config;
    config.set_severity_table(table);
    const char* kFolder = "/usr/share/gimp/2.0/patterns";
    if (std::filesystem::exists(std::string(kFolder) + "/ice2.pat")) {
      config.mutable_frost()->set_folder(kFolder);
      config.mutable_frost()->add_files("ice2.pat");
      config.mutable_frost()->add_files("icechex.pat");
      config.mutable_frost()->set_scale_override(3.0);
    }
    absl::StatusOr<Corruptor> c = Corruptor::Create(config);
    CHECK(c.ok()) << c.status();
    it = corruptors->emplace(table, std::move(*c)).first;
  }
  return it->second;
}

// Args: corruption, side, channels.
void BM_Corrupt(benchmark::State& state) {
  const auto corruption = static_cast<proto::Corruption>(state.range(0));
  const int64_t side = state.range(1), channels = state.range(2);
  const Corruptor& corruptor =
      SharedCorruptor(side == 28 ? proto::CIFAR10_C : proto::IMAGECORRUPTIONS);
  Uint8Image image(channels, side, side);
  uint64_t x = 12345;
  for (uint8_t& v : image.data) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    v = static_cast<uint8_t>(x >> 56);
  }
  absl::StatusOr<Uint8Image> check = corruptor.Apply(image, corruption, 3, 0);
  if (!check.ok()) {
    state.SkipWithError(std::string(check.status().message()).c_str());
    return;
  }
  CHECK_EQ(check->data.size(), image.data.size());
  uint64_t seed = 0;
  for (auto _ : state) {
    absl::StatusOr<Uint8Image> out = corruptor.Apply(image, corruption, 3, seed++);
    benchmark::DoNotOptimize(out->data.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(CorruptionName(corruption));
}

void Sizes(benchmark::internal::Benchmark* b) {
  for (int c = 1; c <= 19; ++c) {
    b->Args({c, 28, 1});
    b->Args({c, 32, 3});
    b->Args({c, 224, 3});
  }
}
BENCHMARK(BM_Corrupt)->Apply(Sizes)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace robustness
