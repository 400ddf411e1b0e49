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
// probability a, to 1 or 0 with probability 1/2 (two independent uniforms per value, `<=`).
// Uniform() <= a is compared on the integers it is made of (k 2^-53 <= a, k = Next() >> 11,
// is k <= floor(a 2^53): the same outcome bit for bit), and the flip is a select, not a branch
// (a branch on a coin of probability a mispredicted on ~a of the values).
Uint8Image ImpulseNoise(const Uint8Image& x, const Params& p, Random* random) {
  Uint8Image y = x;
  Random local = *random;  // kept in registers: uint8_t stores may alias the stream's state
  uint8_t* v = y.data.data();
  const int64_t n = static_cast<int64_t>(y.data.size());
  const double scaled = std::floor(std::clamp(p[0], 0.0, 1.0) * 0x1.0p53);
  const uint64_t flip_below = static_cast<uint64_t>(scaled);  // k <= flip_below: flipped
  constexpr uint64_t kSaltBelow = uint64_t{1} << 52;          // k <= 2^52: U <= 0.5
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t flipped = (local.Next() >> 11) <= flip_below;
    const uint64_t salted = (local.Next() >> 11) <= kSaltBelow;
    const uint8_t mask = static_cast<uint8_t>(0u - static_cast<unsigned>(flipped));
    const uint8_t value = static_cast<uint8_t>(0u - static_cast<unsigned>(salted));  // 255 or 0
    v[i] = static_cast<uint8_t>((v[i] & ~mask) | (value & mask));
  }
  *random = local;
  return y;
}

// x + x N(0, c): in grey levels v + v c n, a normal of standard deviation v c around v.
Uint8Image SpeckleNoise(const Uint8Image& x, const Params& p, Random* random) {
  return SampleLevels(
      x, CachedTables(2, p[0], [&](int v) { return TruncatedNormalLevels(v, v * p[0]); }), random);
}

}  // namespace robustness::corruptions_internal
