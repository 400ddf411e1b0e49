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
    if (index == 0) return NormalTail(rabs);
    if ((z.f[index - 1] - z.f[index]) * Uniform() + z.f[index] < std::exp(-0.5 * x * x)) return x;
  }
}

// The base layer's tail beyond R (Marsaglia 1964).
double Random::NormalTail(uint64_t r) {
  while (true) {
    const double xx = -std::log1p(-Uniform()) / kZigR;
    const double yy = -std::log1p(-Uniform());
    if (yy + yy > xx * xx) return ((r >> 8) & 1) ? -(kZigR + xx) : kZigR + xx;
  }
}

// Vose's alias method ("A linear algorithm for generating random numbers with a given
// distribution", 1991): columns below the mean are topped up from one above it.
LevelTables::LevelTables(const std::vector<std::vector<double>>& probabilities) : tables_(256) {
  for (int v = 0; v < 256; ++v) {
    std::vector<double> scaled(256);
    double total = 0;
    for (int k = 0; k < 256; ++k) total += probabilities[v][k];
    for (int k = 0; k < 256; ++k) scaled[k] = probabilities[v][k] / total * 256.0;
    std::vector<int> small, large;
    for (int k = 0; k < 256; ++k) (scaled[k] < 1.0 ? small : large).push_back(k);
    Table& t = tables_[v];
    auto set = [&](int k, double p, int alias) {
      const double x = std::ldexp(p, 32);
      t.threshold[k] = x >= 4294967295.0 ? 0xFFFFFFFFu : static_cast<uint32_t>(x);
      t.alias[k] = static_cast<uint8_t>(alias);
    };
    while (!small.empty() && !large.empty()) {
      const int s = small.back(), l = large.back();
      small.pop_back();
      set(s, scaled[s], l);
      scaled[l] -= 1.0 - scaled[s];
      if (scaled[l] < 1.0) {
        large.pop_back();
        small.push_back(l);
      }
    }
    for (int k : large) set(k, 1.0, k);
    for (int k : small) set(k, 1.0, k);  // round-off leftovers
  }
}

}  // namespace robustness::corruptions_internal
