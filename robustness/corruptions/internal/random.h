// The per-image random stream of the corruptions: xoshiro256++ (Blackman & Vigna) seeded through
// SplitMix64, with our own distributions, so a (seed, image) pair gives the same draws with every
// compiler, library and thread count. The references draw from NumPy's legacy MT19937 (and, for
// impulse noise and glass blur, from streams no seed reaches: ood_suite.md 6.13), so bit parity
// with them is not the goal; the distributions are.
#ifndef ROBUSTNESS_CORRUPTIONS_INTERNAL_RANDOM_H_
#define ROBUSTNESS_CORRUPTIONS_INTERNAL_RANDOM_H_

#include <cmath>
#include <cstdint>
#include <vector>

namespace robustness::corruptions_internal {

class Random {
 public:
  explicit Random(uint64_t seed);

  uint64_t Next() {
    const uint64_t result = Rotl(s_[0] + s_[3], 23) + s_[0];
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  // U[0, 1): the top 53 bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // U[low, high).
  double Uniform(double low, double high) { return low + (high - low) * Uniform(); }
  // Uniform integer in [low, high) (NumPy's randint convention: the upper bound is excluded).
  // high <= low returns low (the references never draw from an empty range; see callers).
  int64_t RandInt(int64_t low, int64_t high);
  // N(0, 1): Marsaglia & Tsang's ziggurat, 256 layers on 52-bit mantissas (the method NumPy's
  // Generator uses; ~3 ns a draw, 99% of draws one multiply and one compare).
  double Normal() {
    const uint64_t r = Next();
    const int index = static_cast<int>(r & 0xFF);
    const uint64_t rabs = (r >> 9) & 0x000FFFFFFFFFFFFFull;
    if (rabs < kZigK[index]) {
      const double x = static_cast<double>(rabs) * kZigW[index];
      return (r >> 8) & 1 ? -x : x;
    }
    return NormalSlow(r);
  }
  // Poisson(lambda), lambda >= 0: multiplication method below 10, Hormann's PTRS above.
  int64_t Poisson(double lambda);

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  double NormalSlow(uint64_t r);
  double NormalTail(uint64_t r, int index);
  static const uint64_t* const kZigK;
  static const double* const kZigW;
  uint64_t s_[4];
};

// Poisson(k lambda_unit) for k = 0 .. 255 by table inversion: shot noise draws Poisson(x c) with
// x = v / 255, so an image needs at most 256 distinct means. Each table holds the CDF over
// [mean - 12 sd - 20, mean + 12 sd + 20] (the mass outside is below 1e-30) and a guide table
// (Chen & Asau), so a draw is one uniform and ~1 compare. Exact up to double rounding.
class PoissonTables {
 public:
  explicit PoissonTables(double lambda_unit);
  int64_t Sample(int level, Random* random) const;

 private:
  struct Table {
    int64_t first = 0;
    std::vector<double> cdf;
    std::vector<int32_t> guide;
  };
  std::vector<Table> tables_;
};

}  // namespace robustness::corruptions_internal

#endif  // ROBUSTNESS_CORRUPTIONS_INTERNAL_RANDOM_H_
