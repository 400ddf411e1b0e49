// Noise (ood_suite.md 1.2, 1-4): one draw per value (per channel), as the references.
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>

#include "robustness/corruptions/internal/ops.h"
#include "robustness/corruptions/internal/planes.h"

namespace robustness::corruptions_internal {

namespace {

// P(trunc(clip(v + s n, 0, 255)) = k) for n ~ N(0, 1): the mass of [k, k + 1) (k = 0 takes
// everything below 1, k = 255 everything from 255 up). s = 0 is a point mass at v.
std::vector<double> TruncatedNormalLevels(double v, double s) {
  std::vector<double> p(256, 0.0);
  if (s <= 0) {
    p[static_cast<int>(v)] = 1.0;
    return p;
  }
  auto below = [&](double t) { return 0.5 * std::erfc(-(t - v) / (s * std::sqrt(2.0))); };
  double previous = 0.0;
  for (int k = 0; k < 255; ++k) {
    const double b = below(k + 1.0);
    p[k] = b - previous;
    previous = b;
  }
  p[255] = 1.0 - previous;
  return p;
}

// One table set per (kind, parameter), shared by every thread (built once under the lock, then
// read-only): a severity table has five parameters, and ApplyBatch's workers are new threads.
template <typename Build>
const LevelTables& CachedTables(int kind, double parameter, Build build) {
  static std::mutex mu;
  static auto* cache = new std::map<std::pair<int, double>, std::unique_ptr<LevelTables>>;
  std::lock_guard<std::mutex> lock(mu);
  std::unique_ptr<LevelTables>& tables = (*cache)[{kind, parameter}];
  if (tables == nullptr) {
    std::vector<std::vector<double>> probabilities(256);
    for (int v = 0; v < 256; ++v) probabilities[v] = build(v);
    tables = std::make_unique<LevelTables>(probabilities);
  }
  return *tables;
}

Uint8Image SampleLevels(const Uint8Image& x, const LevelTables& tables, Random* random) {
  Uint8Image y(x.channels, x.height, x.width);
  tables.SampleMany(x.data.data(), y.data.data(), static_cast<int64_t>(x.data.size()), random);
  return y;
}

}  // namespace

// np.uint8(np.clip(v / 255 + N(0, c), 0, 1) * 255) = trunc(clip(v + 255 c n, 0, 255)): drawn
// from its exact per-level distribution (LevelTables).
Uint8Image GaussianNoise(const Uint8Image& x, const Params& p, Random* random) {
  const double s = 255.0 * p[0];
  return SampleLevels(
      x, CachedTables(0, p[0], [&](int v) { return TruncatedNormalLevels(v, s); }), random);
}

// Poisson(x c) / c with x = v / 255, truncated to uint8: each Poisson outcome's mass is added to
// the output level it truncates to (the same float expression as the reference's).
Uint8Image ShotNoise(const Uint8Image& x, const Params& p, Random* random) {
  const double c = p[0];
  auto levels = [&](int v) {
    std::vector<double> out(256, 0.0);
    const double lambda = v / 255.0 * c;
    if (lambda <= 0) {
      out[0] = 1.0;
      return out;
    }
    const double sd = std::sqrt(lambda);
    const int64_t first = std::max<int64_t>(0, static_cast<int64_t>(lambda - 12 * sd - 20));
    const int64_t last = static_cast<int64_t>(lambda + 12 * sd + 20);
    for (int64_t k = first; k <= last; ++k) {
      const double mass = std::exp(k * std::log(lambda) - lambda - std::lgamma(k + 1.0));
      const double value = std::min(static_cast<double>(k) / c, 1.0) * 255.0 + 1.0 / (1 << 20);
      out[static_cast<int>(std::min(value, 255.0))] += mass;
    }
    return out;
  };
  return SampleLevels(x, CachedTables(1, c, levels), random);
}

// skimage random_noise(mode='s&p', amount=a, salt_vs_pepper=0.5): each value flips with
// probability a, to 1 or 0 with probability 1/2. Two values per 64-bit word: each half is a
// 31-bit uniform u (flipped iff u < t, t = round(a 2^31): probability t / 2^31, within 2^-32 of
// the reference's a) and a salt-or-pepper bit. The words come from four streams seeded from the
// image's stream, round-robin: four independent xoshiro chains run side by side instead of one
// serial chain. The flip is a select, not a branch (a branch on a coin of probability a
// mispredicted on ~a of the values).
Uint8Image ImpulseNoise(const Uint8Image& x, const Params& p, Random* random) {
  Uint8Image y = x;
  Random l0(random->Next()), l1(random->Next()), l2(random->Next()), l3(random->Next());
  uint8_t* v = y.data.data();
  const int64_t n = static_cast<int64_t>(y.data.size());
  const uint32_t threshold =
      static_cast<uint32_t>(std::llround(std::clamp(p[0], 0.0, 1.0) * 0x1.0p31));
  // The half word h (32 bits): u = h >> 1, salt = h & 1.
  auto apply = [threshold](uint32_t h, uint8_t old) {
    const uint8_t mask = static_cast<uint8_t>(0u - static_cast<unsigned>((h >> 1) < threshold));
    const uint8_t value = static_cast<uint8_t>(0u - (h & 1u));  // 255 or 0
    return static_cast<uint8_t>((old & ~mask) | (value & mask));
  };
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const uint64_t r[4] = {l0.Next(), l1.Next(), l2.Next(), l3.Next()};
    for (int k = 0; k < 4; ++k) {
      v[i + 2 * k] = apply(static_cast<uint32_t>(r[k] >> 32), v[i + 2 * k]);
      v[i + 2 * k + 1] = apply(static_cast<uint32_t>(r[k]), v[i + 2 * k + 1]);
    }
  }
  for (; i < n; i += 2) {
    const uint64_t r = l0.Next();
    v[i] = apply(static_cast<uint32_t>(r >> 32), v[i]);
    if (i + 1 < n) v[i + 1] = apply(static_cast<uint32_t>(r), v[i + 1]);
  }
  return y;
}

// x + x N(0, c): in grey levels v + v c n, a normal of standard deviation v c around v.
Uint8Image SpeckleNoise(const Uint8Image& x, const Params& p, Random* random) {
  return SampleLevels(
      x, CachedTables(2, p[0], [&](int v) { return TruncatedNormalLevels(v, v * p[0]); }), random);
}

}  // namespace robustness::corruptions_internal
