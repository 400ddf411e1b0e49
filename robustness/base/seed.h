// The one place that decides how a run is seeded and threaded.
//
// Determinism contract (CPU): the same config and seed give the same numbers. Everything random
// (initialisation, data order, augmentation, attack starts) draws from generators whose seeds are
// derived here from the run seed, never from the clock or global state shared across threads.
#ifndef ROBUSTNESS_BASE_SEED_H_
#define ROBUSTNESS_BASE_SEED_H_

#include <cstdint>
#include <initializer_list>

#include <ATen/core/Generator.h>
#include <c10/core/Device.h>

namespace robustness {

// Seeds LibTorch's default CPU generator with `seed` and sets the intra-op thread count
// (`num_threads` > 0, or every core when 0; LibTorch otherwise starts with one thread here).
// Returns the thread count in effect.
int ConfigureRuntime(int64_t seed, int num_threads);

// A well-mixed 64-bit seed from a base seed and a path of integers (splitmix64 chaining):
// DeriveSeed(run_seed, {kAugmentStream, epoch, index}). Different paths give unrelated streams.
uint64_t DeriveSeed(uint64_t base, std::initializer_list<uint64_t> path);

// A fresh CPU generator seeded with `seed`.
at::Generator MakeCpuGenerator(uint64_t seed);

// A fresh generator for `device` seeded with `seed`: MakeCpuGenerator on CPU; on an accelerator
// a clone of its default generator, re-seeded (the default one is left as it was). Attacks draw
// their random starts on the images' device, and LibTorch refuses a CPU generator there. A CUDA
// stream of numbers differs from the CPU one for the same seed.
at::Generator MakeGenerator(uint64_t seed, c10::Device device);

// Stream identifiers for DeriveSeed, so no two consumers share a stream by accident.
enum SeedStream : uint64_t {
  kInitStream = 1,
  kDataOrderStream = 2,
  kAugmentStream = 3,
  kAttackStream = 4,
  kSubsetStream = 5,
  kBatchMixStream = 6,  // MixUp / CutMix draws: (seed, kBatchMixStream, epoch, step)
  // Adversarial training's inner attack: (seed, kAdversarialTrainingStream, epoch, step, part).
  kAdversarialTrainingStream = 7,
  // Corruptions: (seed, kCorruptionStream, corruption, severity, image index).
  kCorruptionStream = 8,
  // Texture dictionaries: (seed, kTextureStream, class, 0 = K-means starts | 1 = synthesis noise).
  kTextureStream = 9,
  // Texture Patch Attack: (seed, kPatchAttackStream, image index).
  kPatchAttackStream = 10,
  // Data-parallel training (W > 1 processes): appended to a per-rank stream's keys as
  // kRankStream + rank, so each rank draws its own MixUp pairs and attack starts.
  kRankStream = 1000,
};

}  // namespace robustness

#endif  // ROBUSTNESS_BASE_SEED_H_
