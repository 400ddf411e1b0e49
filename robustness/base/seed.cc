#include "robustness/base/seed.h"

#include <mutex>
#include <thread>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <ATen/core/Generator.h>
#include <ATen/Context.h>

namespace robustness {
namespace {

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

int ConfigureRuntime(int64_t seed, int num_threads) {
  at::manual_seed(static_cast<uint64_t>(seed));
  int threads = num_threads > 0 ? num_threads
                                : static_cast<int>(std::thread::hardware_concurrency());
  if (threads < 1) threads = 1;
  at::set_num_threads(threads);
  return at::get_num_threads();
}

uint64_t DeriveSeed(uint64_t base, std::initializer_list<uint64_t> path) {
  uint64_t h = SplitMix64(base);
  for (uint64_t p : path) h = SplitMix64(h ^ SplitMix64(p + 0x632be59bd9b4e019ULL));
  return h;
}

at::Generator MakeCpuGenerator(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

at::Generator MakeGenerator(uint64_t seed, c10::Device device) {
  if (device.is_cpu()) return MakeCpuGenerator(seed);
  at::Generator generator = at::globalContext().defaultGenerator(device).clone();
  {
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_current_seed(seed);
  }
  return generator;
}

}  // namespace robustness
