#include "robustness/corruptions/internal/random.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include <immintrin.h>

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

namespace {

constexpr uint64_t kMantissaMask = 0x000FFFFFFFFFFFFFull;

// Four xoshiro256++ generators side by side: word w of lane l at s[w][l].
struct Lanes {
  alignas(32) uint64_t s[4][4];
};

// One step of lane l: its output, as Random::Next().
inline uint64_t NextLane(Lanes* lanes, int l) {
  return Random::Step(lanes->s[0][l], lanes->s[1][l], lanes->s[2][l], lanes->s[3][l]);
}

// A draw the fast path rejected: its index and its 64 random bits.
struct Rejected {
  int64_t index;
  uint64_t r;
};

// Blocks [0, blocks) of four values: out[4 b + l] from lane l, N(mu, sigma) rounded to float32
// through Random::NormalFast; its rejections are left to the caller.
void LanesPortable(Lanes* lanes, double mu, double sigma, float* out, int64_t blocks,
                   std::vector<Rejected>* rejected) {
  for (int64_t b = 0; b < blocks; ++b) {
    for (int l = 0; l < 4; ++l) {
      const uint64_t r = NextLane(lanes, l);
      double x;
      if (Random::NormalFast(r, &x)) {
        out[4 * b + l] = static_cast<float>(mu + sigma * x);
      } else {
        rejected->push_back({4 * b + l, r});
      }
    }
  }
}

// xoshiro256++ on four lanes at once (NextLane's arithmetic, lane l in 64-bit element l):
// returns the outputs and advances the state.
__attribute__((target("avx2"), always_inline)) inline __m256i Xoshiro4Next(__m256i* s0,
                                                                           __m256i* s1,
                                                                           __m256i* s2,
                                                                           __m256i* s3) {
  const __m256i sum = _mm256_add_epi64(*s0, *s3);
  const __m256i r = _mm256_add_epi64(
      _mm256_or_si256(_mm256_slli_epi64(sum, 23), _mm256_srli_epi64(sum, 41)), *s0);
  const __m256i t = _mm256_slli_epi64(*s1, 17);
  *s2 = _mm256_xor_si256(*s2, *s0);
  *s3 = _mm256_xor_si256(*s3, *s1);
  *s1 = _mm256_xor_si256(*s1, *s2);
  *s0 = _mm256_xor_si256(*s0, *s3);
  *s2 = _mm256_xor_si256(*s2, t);
  *s3 = _mm256_or_si256(_mm256_slli_epi64(*s3, 45), _mm256_srli_epi64(*s3, 19));
  return r;
}

// LanesPortable with AVX2: the lanes in four registers, the ziggurat's tables (k, w: NormalFast's)
// gathered. double(rabs) through the 2^52 exponent trick (exact below 2^52), the sign flipped by
// xor, then mu + sigma x and the rounding to float32 as there.
__attribute__((target("avx2"))) void LanesAvx2(Lanes* lanes, const uint64_t* k,
                                                const double* w, double mu, double sigma,
                                                float* out, int64_t blocks,
                                                std::vector<Rejected>* rejected) {
  __m256i s0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(lanes->s[0]));
  __m256i s1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(lanes->s[1]));
  __m256i s2 = _mm256_load_si256(reinterpret_cast<const __m256i*>(lanes->s[2]));
  __m256i s3 = _mm256_load_si256(reinterpret_cast<const __m256i*>(lanes->s[3]));
  const __m256i index_mask = _mm256_set1_epi64x(0xFF);
  const __m256i mantissa_mask = _mm256_set1_epi64x(static_cast<int64_t>(kMantissaMask));
  const __m256i one = _mm256_set1_epi64x(1);
  const __m256i exponent = _mm256_set1_epi64x(0x4330000000000000ll);  // 2^52
  const __m256d two52 = _mm256_set1_pd(4503599627370496.0);
  const __m256d vmu = _mm256_set1_pd(mu), vsigma = _mm256_set1_pd(sigma);
  const long long* kk = reinterpret_cast<const long long*>(k);
  for (int64_t b = 0; b < blocks; ++b) {
    const __m256i r = Xoshiro4Next(&s0, &s1, &s2, &s3);
    const __m256i index = _mm256_and_si256(r, index_mask);
    const __m256i rabs = _mm256_and_si256(_mm256_srli_epi64(r, 9), mantissa_mask);
    const __m256i limit = _mm256_i64gather_epi64(kk, index, 8);
    // rabs < limit, both below 2^63: the signed compare is the unsigned one.
    const int accepted = _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpgt_epi64(limit, rabs)));
    const __m256d width = _mm256_i64gather_pd(w, index, 8);
    const __m256d magnitude =
        _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(rabs, exponent)), two52);
    const __m256i sign = _mm256_slli_epi64(_mm256_and_si256(_mm256_srli_epi64(r, 8), one), 63);
    const __m256d x = _mm256_xor_pd(_mm256_mul_pd(magnitude, width), _mm256_castsi256_pd(sign));
    const __m128 y = _mm256_cvtpd_ps(_mm256_add_pd(vmu, _mm256_mul_pd(vsigma, x)));
    _mm_storeu_ps(out + 4 * b, y);
    if (accepted != 0xF) {
      alignas(32) uint64_t rs[4];
      _mm256_store_si256(reinterpret_cast<__m256i*>(rs), r);
      for (int l = 0; l < 4; ++l) {
        if (!((accepted >> l) & 1)) rejected->push_back({4 * b + l, rs[l]});
      }
    }
  }
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes->s[0]), s0);
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes->s[1]), s1);
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes->s[2]), s2);
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes->s[3]), s3);
}

// U[0, 1) from 52 bits: 1.m - 1, exact.
inline double UnitFromBits(uint64_t r) {
  const uint64_t bits = (r >> 12) | 0x3FF0000000000000ull;
  double x;
  std::memcpy(&x, &bits, sizeof(x));
  return x - 1.0;
}

void UniformLanesPortable(Lanes* lanes, double* out, int64_t blocks) {
  for (int64_t b = 0; b < blocks; ++b) {
    for (int l = 0; l < 4; ++l) out[4 * b + l] = UnitFromBits(NextLane(lanes, l));
  }
}

__attribute__((target("avx2"))) void UniformLanesAvx2(Lanes* lanes, double* out,
                                                       int64_t blocks) {
  __m256i s0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(lanes->s[0]));
  __m256i s1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(lanes->s[1]));
  __m256i s2 = _mm256_load_si256(reinterpret_cast<const __m256i*>(lanes->s[2]));
  __m256i s3 = _mm256_load_si256(reinterpret_cast<const __m256i*>(lanes->s[3]));
  const __m256i one_exponent = _mm256_set1_epi64x(0x3FF0000000000000ll);
  const __m256d one = _mm256_set1_pd(1.0);
  for (int64_t b = 0; b < blocks; ++b) {
    const __m256i r = Xoshiro4Next(&s0, &s1, &s2, &s3);
    const __m256d x = _mm256_castsi256_pd(_mm256_or_si256(_mm256_srli_epi64(r, 12), one_exponent));
    _mm256_storeu_pd(out + 4 * b, _mm256_sub_pd(x, one));
  }
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes->s[0]), s0);
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes->s[1]), s1);
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes->s[2]), s2);
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes->s[3]), s3);
}

bool HasAvx2() {
  static const bool has = [] {
    __builtin_cpu_init();  // in case this runs before the library's constructors
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return has;
}

// The lanes' states: SplitMix64 from one draw of the stream (never all zero).
Lanes SeededLanes(uint64_t seed) {
  Lanes lanes;
  for (int l = 0; l < 4; ++l) {
    for (int word = 0; word < 4; ++word) lanes.s[word][l] = SplitMix64(&seed);
  }
  return lanes;
}

}  // namespace

void Random::FillUniformLanes(double* out, int64_t n) { FillUniformLanesWith(HasAvx2(), out, n); }

void Random::FillUniformLanesPortable(double* out, int64_t n) {
  FillUniformLanesWith(false, out, n);
}

void Random::FillUniformLanesWith(bool avx2, double* out, int64_t n) {
  if (n <= 0) return;
  Lanes lanes = SeededLanes(Next());
  const int64_t blocks = n / 4;
  if (avx2) {
    UniformLanesAvx2(&lanes, out, blocks);
  } else {
    UniformLanesPortable(&lanes, out, blocks);
  }
  if (n % 4 != 0) {  // the last, partial block: a whole one drawn, the first n % 4 kept
    double tail[4];
    UniformLanesPortable(&lanes, tail, 1);
    for (int64_t i = 4 * blocks; i < n; ++i) out[i] = tail[i - 4 * blocks];
  }
}

void Random::FillNormalLanes(double mu, double sigma, float* out, int64_t n) {
  FillNormalLanesWith(HasAvx2(), mu, sigma, out, n);
}

void Random::FillNormalLanesPortable(double mu, double sigma, float* out, int64_t n) {
  FillNormalLanesWith(false, mu, sigma, out, n);
}

void Random::FillNormalLanesWith(bool avx2, double mu, double sigma, float* out, int64_t n) {
  if (n <= 0) return;
  Lanes lanes = SeededLanes(Next());
  std::vector<Rejected> rejected;
  rejected.reserve(static_cast<size_t>(n / 64 + 8));
  const int64_t blocks = n / 4;
  if (avx2) {
    LanesAvx2(&lanes, kZigK, kZigW, mu, sigma, out, blocks, &rejected);
  } else {
    LanesPortable(&lanes, mu, sigma, out, blocks, &rejected);
  }
  if (n % 4 != 0) {  // the last, partial block: a whole one drawn, the first n % 4 kept
    float tail[4];
    std::vector<Rejected> tail_rejected;
    LanesPortable(&lanes, mu, sigma, tail, 1, &tail_rejected);
    for (int64_t i = 4 * blocks; i < n; ++i) out[i] = tail[i - 4 * blocks];
    for (const Rejected& r : tail_rejected) {
      if (4 * blocks + r.index < n) rejected.push_back({4 * blocks + r.index, r.r});
    }
  }
  for (const Rejected& r : rejected) {
    out[r.index] = static_cast<float>(mu + sigma * NormalSlow(r.r));
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
