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

  uint64_t Next() { return Step(s_[0], s_[1], s_[2], s_[3]); }
  // One xoshiro256++ step of the state words s0..s3: its output. Next()'s arithmetic, also for
  // the lane-parallel streams of the Fill*Lanes samplers.
  static uint64_t Step(uint64_t& s0, uint64_t& s1, uint64_t& s2, uint64_t& s3) {
    const uint64_t result = Rotl(s0 + s3, 23) + s0;
    const uint64_t t = s1 << 17;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = Rotl(s3, 45);
    return result;
  }
  // U[0, 1): the top 53 bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // U[low, high).
  double Uniform(double low, double high) { return low + (high - low) * Uniform(); }
  // Uniform integer in [low, high) (NumPy's randint convention: the upper bound is excluded).
  // high <= low returns low (the references never draw from an empty range; see callers).
  // Inline: glass blur draws two per pixel visit.
  int64_t RandInt(int64_t low, int64_t high) {
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
  // N(0, 1): Marsaglia & Tsang's ziggurat, 256 layers on 52-bit mantissas (the method NumPy's
  // Generator uses; ~3 ns a draw, 99% of draws one multiply and one compare).
  double Normal() {
    const uint64_t r = Next();
    double x;
    return NormalFast(r, &x) ? x : NormalSlow(r);
  }
  // The ziggurat's fast path for the 64 random bits r: true with *x ~ N(0, 1) (the layer from
  // the low 8 bits, the sign from bit 8, the magnitude from bits 9..60), false (x untouched)
  // where r falls outside its layer's rectangle and NormalSlow(r) must finish.
  static bool NormalFast(uint64_t r, double* x) {
    const int index = static_cast<int>(r & 0xFF);
    const uint64_t rabs = (r >> 9) & 0x000FFFFFFFFFFFFFull;
    if (rabs >= kZigK[index]) return false;
    *x = WithSign(static_cast<double>(rabs) * kZigW[index], r >> 8);
    return true;
  }
  // out[i] ~ N(mu, sigma) rounded to float32, for i < n: Normal()'s ziggurat on four
  // xoshiro256++ lanes seeded from this stream (lane l draws values 4k + l), four at a time; the
  // ~1% of draws its fast path rejects finish in index order on this stream. Not the sequence
  // of Normal() calls but the same distribution, at half the cost of that loop with AVX2 (used
  // when the CPU has it; the portable path computes the same values: integer lanes, the same
  // float64 operations).
  void FillNormalLanes(double mu, double sigma, float* out, int64_t n);
  // The portable path alone (for the test that the AVX2 path agrees with it).
  void FillNormalLanesPortable(double mu, double sigma, float* out, int64_t n);
  // out[i] ~ U[0, 1) on the 2^-52 grid (52 random bits as a mantissa, minus 1: exact), for
  // i < n: four xoshiro256++ lanes seeded from this stream (lane l draws values 4k + l), with
  // AVX2 where the CPU has it; the portable path computes the same values.
  void FillUniformLanes(double* out, int64_t n);
  void FillUniformLanesPortable(double* out, int64_t n);

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  // -x if bit 0 of sign is set, else x: the sign bit flipped arithmetically (the coin flip of
  // a branch would be mispredicted half the time). The same value as the negation.
  static double WithSign(double x, uint64_t sign) {
    uint64_t bits;
    __builtin_memcpy(&bits, &x, sizeof(bits));
    bits ^= (sign & 1) << 63;
    __builtin_memcpy(&x, &bits, sizeof(bits));
    return x;
  }
  double NormalSlow(uint64_t r);
  void FillNormalLanesWith(bool avx2, double mu, double sigma, float* out, int64_t n);
  void FillUniformLanesWith(bool avx2, double* out, int64_t n);
  double NormalTail(uint64_t r);
  static const uint64_t* const kZigK;
  static const double* const kZigW;
  uint64_t s_[4];
};

// The output grey level of a per-value random corruption drawn directly: for each input level
// v (0..255) the distribution of the truncated uint8 result over the 256 output levels, as a
// Walker / Vose alias table, so a draw is one 64-bit word, two loads and a select (no normal or
// Poisson draw, no float round trip, no data-dependent branch). Exact up to the 32-bit
// resolution of the alias thresholds: the tables are the distributions of trunc(clip(...)).
class LevelTables {
 public:
  // probabilities[v][k] = P(out = k | in = v); each row sums to 1 (up to round-off).
  explicit LevelTables(const std::vector<std::vector<double>>& probabilities);
  // out[i] ~ P(. | in[i]) for i < n, one Next() each, in order.
  void SampleMany(const uint8_t* in, uint8_t* out, int64_t n, Random* random) const {
    // A local copy of the stream and the table base: uint8_t stores may alias anything, so
    // through the pointers the compiler would reload and store the state on every value.
    Random local = *random;
    const Table* tables = tables_.data();
    for (int64_t i = 0; i < n; ++i) {
      const Table& t = tables[in[i]];
      const uint64_t r = local.Next();
      const int column = static_cast<int>(r >> 56);  // the top 8 bits pick a column
      const uint32_t u = static_cast<uint32_t>(r);   // the low 32 bits: column or its alias
      // Branch-free select: the choice is a coin flip for spread-out distributions.
      const uint32_t keep = 0u - static_cast<uint32_t>(u < t.threshold[column]);
      out[i] = static_cast<uint8_t>((static_cast<uint32_t>(column) & keep) |
                                    (static_cast<uint32_t>(t.alias[column]) & ~keep));
    }
    *random = local;
  }

 private:
  struct Table {
    uint32_t threshold[256];  // P(stay) x 2^32, saturated
    uint8_t alias[256];
  };
  std::vector<Table> tables_;
};

}  // namespace robustness::corruptions_internal

#endif  // ROBUSTNESS_CORRUPTIONS_INTERNAL_RANDOM_H_
