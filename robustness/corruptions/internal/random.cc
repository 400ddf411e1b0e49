#include "robustness/corruptions/internal/random.h"

#include <algorithm>
#include <cmath>

namespace robustness::corruptions_internal {
namespace {

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace

Random::Random(uint64_t seed) {
  uint64_t state = seed;
  for (uint64_t& s : s_) s = SplitMix64(&state);
}

int64_t Random::RandInt(int64_t low, int64_t high) {
  if (high <= low) return low;
  const uint64_t range = static_cast<uint64_t>(high - low);
  // Lemire's nearly divisionless method, with rejection: unbiased.
  unsigned __int128 m = static_cast<unsigned __int128>(Next()) * range;
  uint64_t l = static_cast<uint64_t>(m);
  if (l < range) {
    const uint64_t threshold = (0 - range) % range;
    while (l < threshold) {
      m = static_cast<unsigned __int128>(Next()) * range;
      l = static_cast<uint64_t>(m);
    }
  }
  return low + static_cast<int64_t>(m >> 64);
}

namespace {

// Ziggurat tables (Marsaglia & Tsang 2000, "The Ziggurat Method for Generating Random
// Variables", with 256 layers and the 52-bit integer scale).
constexpr double kZigR = 3.6541528853610088;
constexpr double kZigV = 0.00492867323399;
constexpr double kMantissa = 4503599627370496.0;  // 2^52

struct Ziggurat {
  uint64_t k[256];
  double w[256];
  double f[256];
  Ziggurat() {
    double dn = kZigR, tn = dn;
    const double q = kZigV / std::exp(-0.5 * dn * dn);
    k[0] = static_cast<uint64_t>((dn / q) * kMantissa);
    k[1] = 0;
    w[0] = q / kMantissa;
    w[255] = dn / kMantissa;
    f[0] = 1.0;
    f[255] = std::exp(-0.5 * dn * dn);
    for (int i = 254; i >= 1; --i) {
      dn = std::sqrt(-2.0 * std::log(kZigV / dn + std::exp(-0.5 * dn * dn)));
      k[i + 1] = static_cast<uint64_t>((dn / tn) * kMantissa);
      tn = dn;
      f[i] = std::exp(-0.5 * dn * dn);
      w[i] = dn / kMantissa;
    }
  }
};

const Ziggurat& ZigguratTables() {
  static const Ziggurat* tables = new Ziggurat;
  return *tables;
}

}  // namespace

const uint64_t* const Random::kZigK = ZigguratTables().k;
const double* const Random::kZigW = ZigguratTables().w;

// The rejected 1%: the wedge test or the tail, then fresh draws (the fast path is Normal()).
double Random::NormalSlow(uint64_t first) {
  const Ziggurat& z = ZigguratTables();
  bool use_first = true;
  while (true) {
    uint64_t r = use_first ? first : Next();
    use_first = false;
    const int index = static_cast<int>(r & 0xFF);
    r >>= 8;
    const bool negative = r & 1;
    const uint64_t rabs = (r >> 1) & 0x000FFFFFFFFFFFFFull;
    double x = static_cast<double>(rabs) * z.w[index];
    if (negative) x = -x;
    if (rabs < z.k[index]) return x;
    if (index == 0) return NormalTail(rabs, index);
    if ((z.f[index - 1] - z.f[index]) * Uniform() + z.f[index] < std::exp(-0.5 * x * x)) return x;
  }
}

// The base layer's tail beyond R (Marsaglia 1964).
double Random::NormalTail(uint64_t r, int /*index*/) {
  while (true) {
    const double xx = -std::log1p(-Uniform()) / kZigR;
    const double yy = -std::log1p(-Uniform());
    if (yy + yy > xx * xx) return ((r >> 8) & 1) ? -(kZigR + xx) : kZigR + xx;
  }
}

PoissonTables::PoissonTables(double lambda_unit) : tables_(256) {
  for (int level = 0; level < 256; ++level) {
    const double lambda = level * lambda_unit;
    Table& t = tables_[level];
    if (lambda <= 0) {
      t.cdf = {1.0};
      t.guide = {0};
      continue;
    }
    const double sd = std::sqrt(lambda);
    t.first = std::max<int64_t>(0, static_cast<int64_t>(lambda - 12 * sd - 20));
    const int64_t last = static_cast<int64_t>(lambda + 12 * sd + 20);
    double cumulative = 0.0;
    for (int64_t k = t.first; k <= last; ++k) {
      cumulative += std::exp(k * std::log(lambda) - lambda - std::lgamma(k + 1.0));
      t.cdf.push_back(cumulative);
    }
    t.cdf.back() = 2.0;  // every u < 1 stops by the end
    const int n = static_cast<int>(t.cdf.size());
    t.guide.resize(n);
    int k = 0;
    for (int j = 0; j < n; ++j) {
      const double u = static_cast<double>(j) / n;
      while (t.cdf[k] <= u) ++k;
      t.guide[j] = k;
    }
  }
}

int64_t PoissonTables::Sample(int level, Random* random) const {
  const Table& t = tables_[level];
  const double u = random->Uniform();
  const int n = static_cast<int>(t.cdf.size());
  int k = t.guide[std::min(n - 1, static_cast<int>(u * n))];
  while (t.cdf[k] <= u) ++k;
  return t.first + k;
}

int64_t Random::Poisson(double lambda) {
  if (lambda <= 0.0) return 0;
  if (lambda < 10.0) {
    const double limit = std::exp(-lambda);
    int64_t k = 0;
    double product = Uniform();
    while (product > limit) {
      ++k;
      product *= Uniform();
    }
    return k;
  }
  // PTRS (Hormann 1993, "The transformed rejection method for generating Poisson random
  // variables"), the method NumPy's legacy generator also uses for lambda >= 10.
  const double slam = std::sqrt(lambda);
  const double loglam = std::log(lambda);
  const double b = 0.931 + 2.53 * slam;
  const double a = -0.059 + 0.02483 * b;
  const double invalpha = 1.1239 + 1.1328 / (b - 3.4);
  const double vr = 0.9277 - 3.6224 / (b - 2);
  while (true) {
    const double u = Uniform() - 0.5;
    const double v = Uniform();
    const double us = 0.5 - std::fabs(u);
    const double k = std::floor((2 * a / us + b) * u + lambda + 0.43);
    if (us >= 0.07 && v <= vr) return static_cast<int64_t>(k);
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (std::log(v) + std::log(invalpha) - std::log(a / (us * us) + b) <=
        -lambda + k * loglam - std::lgamma(k + 1)) {
      return static_cast<int64_t>(k);
    }
  }
}

}  // namespace robustness::corruptions_internal
