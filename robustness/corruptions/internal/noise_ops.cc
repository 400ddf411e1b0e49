// Noise (ood_suite.md 1.2, 1-4): one draw per value (per channel), as the references.
#include <algorithm>
#include <map>
#include <memory>

#include "robustness/corruptions/internal/ops.h"
#include "robustness/corruptions/internal/planes.h"

namespace robustness::corruptions_internal {

namespace {

// np.uint8(np.clip(v / 255 + e, 0, 1) * 255) computed as v + 255 e in grey levels (the same up
// to one rounding; the truncation guard of planes.h covers it).
inline uint8_t TruncateLevels(double v) {
  v = std::clamp(v, 0.0, 255.0) + 1.0 / (1 << 20);
  return static_cast<uint8_t>(std::min(v, 255.0));
}

}  // namespace

Uint8Image GaussianNoise(const Uint8Image& x, const Params& p, Random* random) {
  Uint8Image y(x.channels, x.height, x.width);
  const double scale = 255.0 * p[0];
  for (size_t i = 0; i < x.data.size(); ++i) {
    y.data[i] = TruncateLevels(x.data[i] + scale * random->Normal());
  }
  return y;
}

// Poisson(x c) / c with x = v / 255: drawn from per-level inversion tables, cached per c for the
// thread (a severity table has five c values).
Uint8Image ShotNoise(const Uint8Image& x, const Params& p, Random* random) {
  const double c = p[0];
  thread_local std::map<double, std::unique_ptr<PoissonTables>> cache;
  std::unique_ptr<PoissonTables>& tables = cache[c];
  if (tables == nullptr) tables = std::make_unique<PoissonTables>(c / 255.0);
  Planes y(x.channels, x.height, x.width);
  for (size_t i = 0; i < x.data.size(); ++i) {
    y.v[i] = static_cast<double>(tables->Sample(x.data[i], random)) / c;
  }
  return TruncateUnit(y);
}

// skimage random_noise(mode='s&p', amount=a, salt_vs_pepper=0.5): each value flips with
// probability a, to 1 or 0 with probability 1/2 (two independent uniforms per value, `<=`).
Uint8Image ImpulseNoise(const Uint8Image& x, const Params& p, Random* random) {
  Uint8Image y = x;
  for (uint8_t& v : y.data) {
    const bool flipped = random->Uniform() <= p[0];
    const bool salted = random->Uniform() <= 0.5;
    if (flipped) v = salted ? 255 : 0;
  }
  return y;
}

Uint8Image SpeckleNoise(const Uint8Image& x, const Params& p, Random* random) {
  Uint8Image y(x.channels, x.height, x.width);
  for (size_t i = 0; i < x.data.size(); ++i) {
    const double v = x.data[i];
    y.data[i] = TruncateLevels(v + v * p[0] * random->Normal());
  }
  return y;
}

}  // namespace robustness::corruptions_internal
