#include "robustness/corruptions/internal/jpeg_codec.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <csetjmp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <vector>

#include <emmintrin.h>
#include <immintrin.h>
#include <jpeglib.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace robustness::corruptions_internal {
namespace {

struct JpegError {
  jpeg_error_mgr manager;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void OnJpegError(j_common_ptr cinfo) {
  auto* error = reinterpret_cast<JpegError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, error->message);
  std::longjmp(error->jump, 1);
}

}  // namespace

absl::StatusOr<Uint8Image> LibjpegRoundTrip(const Uint8Image& image, int quality) {
  CHECK(image.channels == 1 || image.channels == 3) << image.channels;
  const int64_t h = image.height, w = image.width, c = image.channels;
  std::vector<uint8_t> interleaved(static_cast<size_t>(h * w * c));
  for (int64_t ch = 0; ch < c; ++ch) {
    const uint8_t* p = image.plane(ch);
    for (int64_t i = 0; i < h * w; ++i) interleaved[i * c + ch] = p[i];
  }
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  {
    jpeg_compress_struct cinfo;
    JpegError error;
    cinfo.err = jpeg_std_error(&error.manager);
    error.manager.error_exit = OnJpegError;
    if (setjmp(error.jump)) {
      jpeg_destroy_compress(&cinfo);
      std::free(buffer);
      return absl::InternalError(absl::StrCat("JPEG encode failed: ", error.message));
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, &buffer, &size);
    cinfo.image_width = static_cast<JDIMENSION>(w);
    cinfo.image_height = static_cast<JDIMENSION>(h);
    cinfo.input_components = static_cast<int>(c);
    cinfo.in_color_space = c == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
      JSAMPROW row = interleaved.data() + static_cast<size_t>(cinfo.next_scanline) * w * c;
      jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
  }
  Uint8Image out(c, h, w);
  {
    jpeg_decompress_struct dinfo;
    JpegError error;
    dinfo.err = jpeg_std_error(&error.manager);
    error.manager.error_exit = OnJpegError;
    if (setjmp(error.jump)) {
      jpeg_destroy_decompress(&dinfo);
      std::free(buffer);
      return absl::InternalError(absl::StrCat("JPEG decode failed: ", error.message));
    }
    jpeg_create_decompress(&dinfo);
    jpeg_mem_src(&dinfo, buffer, size);
    jpeg_read_header(&dinfo, TRUE);
    dinfo.out_color_space = c == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_start_decompress(&dinfo);
    while (dinfo.output_scanline < dinfo.output_height) {
      JSAMPROW row = interleaved.data() + static_cast<size_t>(dinfo.output_scanline) * w * c;
      jpeg_read_scanlines(&dinfo, &row, 1);
    }
    jpeg_finish_decompress(&dinfo);
    jpeg_destroy_decompress(&dinfo);
  }
  std::free(buffer);
  for (int64_t ch = 0; ch < c; ++ch) {
    uint8_t* p = out.plane(ch);
    for (int64_t i = 0; i < h * w; ++i) p[i] = interleaved[i * c + ch];
  }
  return out;
}

namespace {

// JPEG (ITU T.81) Annex K's quantisation tables, natural order, as jpeg_set_quality scales them.
constexpr uint8_t kLuminanceTable[64] = {
    16, 11, 10, 16, 24,  40,  51,  61,  12, 12, 14, 19, 26,  58,  60,  55,
    14, 13, 16, 24, 40,  57,  69,  56,  14, 17, 22, 29, 51,  87,  80,  62,
    18, 22, 37, 56, 68,  109, 103, 77,  24, 35, 55, 64, 81,  104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99};
constexpr uint8_t kChrominanceTable[64] = {
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99,
    99, 99, 47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99};

// Per coefficient (natural order): the decoder's multiplier (the quantisation value) and
// libjpeg-turbo's quantisation by reciprocal (jcdctmgr.c compute_reciprocal, 16-bit DCTELEM as
// in its SIMD builds): q = sign(x) (((|x| + bias) recip) >> shift), the divisor being 8 x the
// quantisation value (the islow DCT leaves its outputs scaled by 8).
struct QuantPlan {
  int32_t quant[64];
  int32_t bias[64];
  int32_t recip[64];
  int32_t shift[64];
  // The same in 16 bits for the SIMD kernels (recip < 2^16, bias <= 1021).
  uint16_t quant16[64];
  uint16_t bias16[64];
  uint16_t recip16[64];
  uint16_t shift16[64];  // shift - 16, the part after pmulhuw's 16
  // The 16-bit values twice in 32 bits (lo | lo << 16): a 32-bit broadcast from memory is a plain
  // load, a 16-bit one also takes a shuffle.
  int32_t quant_pair[64];
  int32_t bias_pair[64];
  int32_t recip_pair[64];
  int32_t shift_pair[64];
};

QuantPlan MakePlan(const uint8_t* table, int quality) {
  quality = std::clamp(quality, 1, 100);
  const int64_t scale = quality < 50 ? 5000 / quality : 200 - 2 * quality;
  QuantPlan plan;
  for (int i = 0; i < 64; ++i) {
    // force_baseline (Pillow passes TRUE): 8-bit tables.
    const int64_t q = std::clamp<int64_t>((table[i] * scale + 50) / 100, 1, 255);
    const uint32_t divisor = static_cast<uint32_t>(q) * 8;
    int shift = 16 + (31 - __builtin_clz(divisor));
    uint32_t recip = (1u << shift) / divisor;
    const uint32_t remainder = (1u << shift) % divisor;
    uint32_t bias = divisor / 2;
    if (remainder == 0) {  // a power of two
      recip >>= 1;
      --shift;
    } else if (remainder <= divisor / 2) {
      ++bias;
    } else {
      ++recip;
    }
    plan.quant[i] = static_cast<int32_t>(q);
    plan.bias[i] = static_cast<int32_t>(bias);
    plan.recip[i] = static_cast<int32_t>(recip);
    plan.shift[i] = shift;
    CHECK_LT(recip, 1u << 16);
    CHECK_GE(shift, 16);
    plan.quant16[i] = static_cast<uint16_t>(q);
    plan.bias16[i] = static_cast<uint16_t>(bias);
    plan.recip16[i] = static_cast<uint16_t>(recip);
    plan.shift16[i] = static_cast<uint16_t>(shift - 16);
    const auto pair = [](uint16_t v) { return static_cast<int32_t>(v | (uint32_t{v} << 16)); };
    plan.quant_pair[i] = pair(plan.quant16[i]);
    plan.bias_pair[i] = pair(plan.bias16[i]);
    plan.recip_pair[i] = pair(plan.recip16[i]);
    plan.shift_pair[i] = pair(plan.shift16[i]);
  }
  return plan;
}

struct QualityPlans {
  QuantPlan luma;
  QuantPlan chroma;
};

const QualityPlans& PlansFor(int quality) {
  static const std::array<QualityPlans, 101>* const plans = [] {
    auto* all = new std::array<QualityPlans, 101>;
    for (int q = 1; q <= 100; ++q) {
      (*all)[q] = {MakePlan(kLuminanceTable, q), MakePlan(kChrominanceTable, q)};
    }
    return all;
  }();
  return (*plans)[quality];
}

// 16 blocks at a time, one per int32 lane: v[8 r + c] holds sample (r, c) of every block.
typedef int32_t I16 __attribute__((vector_size(64)));
typedef uint32_t U16 __attribute__((vector_size(64)));
typedef int32_t I8 __attribute__((vector_size(32)));
typedef int32_t I4 __attribute__((vector_size(16)));
constexpr int kLanes = 16;

// 16 samples -> 16 level-shifted int32 lanes, by SSE2 unpacking (GCC lowers
// __builtin_convertvector from bytes one element at a time).
__attribute__((always_inline)) inline void Widen(__m128i bytes, I16* out) {
  const __m128i zero = _mm_setzero_si128(), centre = _mm_set1_epi16(128);
  const __m128i lo = _mm_sub_epi16(_mm_unpacklo_epi8(bytes, zero), centre);
  const __m128i hi = _mm_sub_epi16(_mm_unpackhi_epi8(bytes, zero), centre);
  const __m128i lo_sign = _mm_srai_epi16(lo, 15), hi_sign = _mm_srai_epi16(hi, 15);
  // Concatenated in registers (a memcpy of the four parts into *out stalls store forwarding).
  const I8 first = __builtin_shufflevector(I4(_mm_unpacklo_epi16(lo, lo_sign)),
                                           I4(_mm_unpackhi_epi16(lo, lo_sign)), 0, 1, 2, 3, 4,
                                           5, 6, 7);
  const I8 second = __builtin_shufflevector(I4(_mm_unpacklo_epi16(hi, hi_sign)),
                                            I4(_mm_unpackhi_epi16(hi, hi_sign)), 0, 1, 2, 3, 4,
                                            5, 6, 7);
  *out = __builtin_shufflevector(first, second, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
                                 15);
}

// 16 int32 lanes -> 16 samples as libjpeg-turbo's SIMD IDCT ends: saturate to int16, then to
// -128..127, then add 128.
__attribute__((always_inline)) inline __m128i Narrow(const I16& x) {
  const I8 first = __builtin_shufflevector(x, x, 0, 1, 2, 3, 4, 5, 6, 7);
  const I8 second = __builtin_shufflevector(x, x, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m128i words = _mm_packs_epi32(__m128i(__builtin_shufflevector(first, first, 0, 1, 2, 3)),
                                        __m128i(__builtin_shufflevector(first, first, 4, 5, 6, 7)));
  const __m128i words2 =
      _mm_packs_epi32(__m128i(__builtin_shufflevector(second, second, 0, 1, 2, 3)),
                      __m128i(__builtin_shufflevector(second, second, 4, 5, 6, 7)));
  return _mm_xor_si128(_mm_packs_epi16(words, words2), _mm_set1_epi8(static_cast<char>(0x80)));
}

// Row r of 16 blocks (8 bytes each) -> column c of the 16 blocks in cols[c], 16 bytes in block
// order: an 8 x 16 byte transpose by unpacking (SSE2, the x86-64 baseline).
__attribute__((always_inline)) inline void TransposeRowIn(uint8_t* const* blocks, int64_t stride,
                                                          int r, __m128i* cols) {
  __m128i a[8], b[8], c[8];
  for (int j = 0; j < 8; ++j) {
    a[j] = _mm_unpacklo_epi8(
        _mm_loadl_epi64(reinterpret_cast<const __m128i*>(blocks[2 * j] + r * stride)),
        _mm_loadl_epi64(reinterpret_cast<const __m128i*>(blocks[2 * j + 1] + r * stride)));
  }
  for (int j = 0; j < 4; ++j) {
    b[2 * j] = _mm_unpacklo_epi16(a[2 * j], a[2 * j + 1]);      // columns 0-3, lanes 4j..4j+3
    b[2 * j + 1] = _mm_unpackhi_epi16(a[2 * j], a[2 * j + 1]);  // columns 4-7
  }
  for (int half = 0; half < 2; ++half) {  // lanes 0-7, 8-15
    const __m128i* bb = b + 4 * half;
    c[4 * half + 0] = _mm_unpacklo_epi32(bb[0], bb[2]);  // columns 0, 1
    c[4 * half + 1] = _mm_unpackhi_epi32(bb[0], bb[2]);  // 2, 3
    c[4 * half + 2] = _mm_unpacklo_epi32(bb[1], bb[3]);  // 4, 5
    c[4 * half + 3] = _mm_unpackhi_epi32(bb[1], bb[3]);  // 6, 7
  }
  for (int j = 0; j < 4; ++j) {
    cols[2 * j] = _mm_unpacklo_epi64(c[j], c[4 + j]);
    cols[2 * j + 1] = _mm_unpackhi_epi64(c[j], c[4 + j]);
  }
}

// The inverse: row r of the 16 blocks from cols[c], column c of the blocks in block order.
__attribute__((always_inline)) inline void TransposeRowOut(const __m128i* k,
                                                           uint8_t* const* blocks,
                                                           int64_t stride, int r) {
  __m128i p[8], q[8];
  for (int j = 0; j < 4; ++j) {
    p[2 * j] = _mm_unpacklo_epi8(k[2 * j], k[2 * j + 1]);      // lanes 0-7, columns 2j, 2j+1
    p[2 * j + 1] = _mm_unpackhi_epi8(k[2 * j], k[2 * j + 1]);  // lanes 8-15
  }
  for (int half = 0; half < 2; ++half) {  // lanes 0-7, 8-15
    q[4 * half + 0] = _mm_unpacklo_epi16(p[half], p[2 + half]);  // lanes +0..3, columns 0-3
    q[4 * half + 1] = _mm_unpackhi_epi16(p[half], p[2 + half]);  // lanes +4..7, columns 0-3
    q[4 * half + 2] = _mm_unpacklo_epi16(p[4 + half], p[6 + half]);  // lanes +0..3, 4-7
    q[4 * half + 3] = _mm_unpackhi_epi16(p[4 + half], p[6 + half]);  // lanes +4..7, 4-7
  }
  for (int quad = 0; quad < 4; ++quad) {  // lanes 4 quad .. 4 quad + 3
    const int half = quad / 2, upper = quad % 2;
    const __m128i lo = q[4 * half + upper], hi = q[4 * half + 2 + upper];
    const __m128i l01 = _mm_unpacklo_epi32(lo, hi);
    const __m128i l23 = _mm_unpackhi_epi32(lo, hi);
    uint8_t* const* out = blocks + 4 * quad;
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out[0] + r * stride), l01);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out[1] + r * stride),
                     _mm_unpackhi_epi64(l01, l01));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out[2] + r * stride), l23);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out[3] + r * stride),
                     _mm_unpackhi_epi64(l23, l23));
  }
}

// 16 blocks -> v[8 r + c], level-shifted int32 lanes.
__attribute__((always_inline)) inline void LoadBlocks(uint8_t* const* blocks, int64_t stride,
                                                      I16* v) {
  for (int r = 0; r < 8; ++r) {
    __m128i cols[8];
    TransposeRowIn(blocks, stride, r, cols);
    for (int c = 0; c < 8; ++c) Widen(cols[c], &v[8 * r + c]);
  }
}

// The inverse, from the IDCT's output (Narrow's range limit).
__attribute__((always_inline)) inline void StoreBlocks(const I16* v, uint8_t* const* blocks,
                                                       int64_t stride) {
  for (int r = 0; r < 8; ++r) {
    __m128i k[8];
    for (int c = 0; c < 8; ++c) k[c] = Narrow(v[8 * r + c]);
    TransposeRowOut(k, blocks, stride, r);
  }
}

// libjpeg's islow constants: FIX(x) = round(x 2^13).
constexpr int32_t k0298 = 2446, k0390 = 3196, k0541 = 4433, k0765 = 6270, k0899 = 7373,
                  k1175 = 9633, k1501 = 12299, k1847 = 15137, k1961 = 16069, k2053 = 16819,
                  k2562 = 20995, k3072 = 25172;

// One pass of the islow forward DCT (Loeffler-Ligtenberg-Moschytz, jfdctint.c's arithmetic)
// over p[0], p[s], ..., p[7 s]: rows first (outputs scaled by 2^2), then columns (descaled by
// 2^2 again, leaving the factor 8 the quantisation divides out). Every output is one rounded
// shift of an exact integer sum; the rounding constant is added once to the shared term.
template <bool kColumns>
__attribute__((always_inline)) inline void ForwardDct8(I16* p, int s) {
  constexpr int kShift = kColumns ? 15 : 11;
  constexpr int32_t kRound = 1 << (kShift - 1);
  const I16 tmp0 = p[0] + p[7 * s], tmp7 = p[0] - p[7 * s];
  const I16 tmp1 = p[s] + p[6 * s], tmp6 = p[s] - p[6 * s];
  const I16 tmp2 = p[2 * s] + p[5 * s], tmp5 = p[2 * s] - p[5 * s];
  const I16 tmp3 = p[3 * s] + p[4 * s], tmp4 = p[3 * s] - p[4 * s];
  const I16 tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3;
  const I16 tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;
  if constexpr (kColumns) {
    p[0] = (tmp10 + tmp11 + 2) >> 2;
    p[4 * s] = (tmp10 - tmp11 + 2) >> 2;
  } else {
    p[0] = (tmp10 + tmp11) << 2;
    p[4 * s] = (tmp10 - tmp11) << 2;
  }
  const I16 e = (tmp12 + tmp13) * k0541 + kRound;
  p[2 * s] = (e + tmp13 * k0765) >> kShift;
  p[6 * s] = (e - tmp12 * k1847) >> kShift;
  const I16 z5 = (tmp4 + tmp5 + tmp6 + tmp7) * k1175 + kRound;
  const I16 z1 = (tmp4 + tmp7) * -k0899;
  const I16 z2 = (tmp5 + tmp6) * -k2562;
  const I16 z3 = (tmp4 + tmp6) * -k1961 + z5;
  const I16 z4 = (tmp5 + tmp7) * -k0390 + z5;
  p[7 * s] = (tmp4 * k0298 + z1 + z3) >> kShift;
  p[5 * s] = (tmp5 * k2053 + z2 + z4) >> kShift;
  p[3 * s] = (tmp6 * k3072 + z2 + z3) >> kShift;
  p[s] = (tmp7 * k1501 + z1 + z4) >> kShift;
}

// One pass of the islow inverse DCT (jidctint.c's arithmetic): columns first (descaled by
// 2^11), then rows (by 2^18, which removes the 2^2 and the factor 8).
template <bool kRows>
__attribute__((always_inline)) inline void InverseDct8(I16* p, int s) {
  constexpr int kShift = kRows ? 18 : 11;
  constexpr int32_t kRound = 1 << (kShift - 1);
  const I16 e = (p[2 * s] + p[6 * s]) * k0541;
  const I16 tmp2 = e - p[6 * s] * k1847;
  const I16 tmp3 = e + p[2 * s] * k0765;
  const I16 tmp0 = ((p[0] + p[4 * s]) << 13) + kRound;
  const I16 tmp1 = ((p[0] - p[4 * s]) << 13) + kRound;
  const I16 tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3;
  const I16 tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;
  const I16 o0 = p[7 * s], o1 = p[5 * s], o2 = p[3 * s], o3 = p[s];
  const I16 z5 = (o0 + o1 + o2 + o3) * k1175;
  const I16 z1 = (o0 + o3) * -k0899;
  const I16 z2 = (o1 + o2) * -k2562;
  const I16 z3 = (o0 + o2) * -k1961 + z5;
  const I16 z4 = (o1 + o3) * -k0390 + z5;
  const I16 t0 = o0 * k0298 + z1 + z3;
  const I16 t1 = o1 * k2053 + z2 + z4;
  const I16 t2 = o2 * k3072 + z2 + z3;
  const I16 t3 = o3 * k1501 + z1 + z4;
  p[0] = (tmp10 + t3) >> kShift;
  p[7 * s] = (tmp10 - t3) >> kShift;
  p[s] = (tmp11 + t2) >> kShift;
  p[6 * s] = (tmp11 - t2) >> kShift;
  p[2 * s] = (tmp12 + t1) >> kShift;
  p[5 * s] = (tmp12 - t1) >> kShift;
  p[3 * s] = (tmp13 + t0) >> kShift;
  p[4 * s] = (tmp13 - t0) >> kShift;
}

// Encode and decode 16 blocks in place: level shift, forward DCT, quantise, dequantise,
// inverse DCT, then libjpeg-turbo's SIMD range limit (Narrow; its C path wraps values past
// +-512 instead, which baseline data from 8-bit samples never reaches).
// AVX-512, AVX2 and baseline clones: integer arithmetic, so the same bits on each.
__attribute__((target_clones("avx512f", "avx2", "default"))) void RoundTripBlocks16(
    uint8_t* const* blocks, int64_t stride, const QuantPlan& plan) {
  I16 v[64];
  LoadBlocks(blocks, stride, v);
  for (int r = 0; r < 8; ++r) ForwardDct8<false>(v + 8 * r, 1);
  for (int c = 0; c < 8; ++c) ForwardDct8<true>(v + c, 8);
  for (int i = 0; i < 64; ++i) {
    const I16 x = v[i];
    const I16 sign = x >> 31;
    const I16 magnitude = (x ^ sign) - sign;
    // Unsigned: (|x| + bias) recip passes 2^31 for |x| near 32768 and recip near 2^16.
    const I16 level =
        I16((U16(magnitude + plan.bias[i]) * static_cast<uint32_t>(plan.recip[i])) >>
            plan.shift[i]);
    v[i] = ((level ^ sign) - sign) * plan.quant[i];
  }
  for (int c = 0; c < 8; ++c) InverseDct8<false>(v + c, 8);
  for (int r = 0; r < 8; ++r) InverseDct8<true>(v + 8 * r, 1);
  StoreBlocks(v, blocks, stride);
}

#if defined(__x86_64__) && defined(__GNUC__)
// ---- The SIMD kernels (jpeg_simd.inc), once per instruction set ----
#define SIMD_INLINE __attribute__((always_inline)) inline

// The blocks of one RoundTripBlocks call: block i's row r at blocks[i] + r stride (the AVX2 and
// AVX-512BW kernels' BlockRows; the VBMI ones add their runs).
struct PlainBlockRows {
  uint8_t* const* blocks;
  int64_t stride;
};
inline PlainBlockRows PrepareBlockRows(uint8_t* const* blocks, int64_t stride) {
  return {blocks, stride};
}

namespace avx2 {
#pragma GCC push_options
#pragma GCC target("avx2")
using V = __m256i;
constexpr int kLanes = 16;
SIMD_INLINE V Add16(V a, V b) { return _mm256_add_epi16(a, b); }
SIMD_INLINE V Sub16(V a, V b) { return _mm256_sub_epi16(a, b); }
SIMD_INLINE V AddSat16(V a, V b) { return _mm256_adds_epi16(a, b); }
SIMD_INLINE V Add32(V a, V b) { return _mm256_add_epi32(a, b); }
SIMD_INLINE V Sub32(V a, V b) { return _mm256_sub_epi32(a, b); }
SIMD_INLINE V Madd16(V a, V b) { return _mm256_madd_epi16(a, b); }
SIMD_INLINE V MaddAcc16(V acc, V a, V b) { return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b)); }
constexpr bool kFusedMaddAdd = false;
SIMD_INLINE V MaddUbs16(V a, V b) { return _mm256_maddubs_epi16(a, b); }
SIMD_INLINE V MulhiU16(V a, V b) { return _mm256_mulhi_epu16(a, b); }
SIMD_INLINE V MulhiS16(V a, V b) { return _mm256_mulhi_epi16(a, b); }
SIMD_INLINE V Mullo16(V a, V b) { return _mm256_mullo_epi16(a, b); }
SIMD_INLINE V Packs32(V a, V b) { return _mm256_packs_epi32(a, b); }
SIMD_INLINE V PackUs16(V a, V b) { return _mm256_packus_epi16(a, b); }
SIMD_INLINE V UnpackLo16(V a, V b) { return _mm256_unpacklo_epi16(a, b); }
SIMD_INLINE V UnpackHi16(V a, V b) { return _mm256_unpackhi_epi16(a, b); }
SIMD_INLINE V UnpackLo8Zero(V a) { return _mm256_unpacklo_epi8(a, _mm256_setzero_si256()); }
SIMD_INLINE V UnpackHi8Zero(V a) { return _mm256_unpackhi_epi8(a, _mm256_setzero_si256()); }
SIMD_INLINE V Set8(int8_t x) { return _mm256_set1_epi8(x); }
SIMD_INLINE V Set16(int16_t x) { return _mm256_set1_epi16(x); }
SIMD_INLINE V Set32(int32_t x) { return _mm256_set1_epi32(x); }
SIMD_INLINE V Abs16(V a) { return _mm256_abs_epi16(a); }
SIMD_INLINE V Or(V a, V b) { return _mm256_or_si256(a, b); }
SIMD_INLINE V SrlCount16(V a, int count) { return _mm256_srl_epi16(a, _mm_cvtsi32_si128(count)); }
// a >> the count in `pair`'s low 16 bits (the count twice, as QuantPlan stores it).
SIMD_INLINE V SrlPair16(V a, int32_t pair) { return SrlCount16(a, pair & 0xFFFF); }
// a with the sign of x (a >= 0; a = 0 where x = 0).
SIMD_INLINE V SignOf16(V a, V x) { return _mm256_sign_epi16(a, x); }
SIMD_INLINE bool IsZero(V a) { return _mm256_testz_si256(a, a); }
template <int k>
SIMD_INLINE V Srai16(V a) { return _mm256_srai_epi16(a, k); }
template <int k>
SIMD_INLINE V Slli16(V a) { return _mm256_slli_epi16(a, k); }
template <int k>
SIMD_INLINE V Srli16(V a) { return _mm256_srli_epi16(a, k); }
template <int k>
SIMD_INLINE V Srai32(V a) { return _mm256_srai_epi32(a, k); }
SIMD_INLINE V LoadV(const void* p) { return _mm256_loadu_si256(static_cast<const V*>(p)); }
SIMD_INLINE void StoreV(void* p, V x) { _mm256_storeu_si256(static_cast<V*>(p), x); }
SIMD_INLINE V LoadBytes(const uint8_t* p) {
  return _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
SIMD_INLINE void StoreBytes(V x, uint8_t* p) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p),
                   _mm_packus_epi16(_mm256_castsi256_si128(x), _mm256_extracti128_si256(x, 1)));
}
using BlockRows = PlainBlockRows;
// Row r of 16 blocks -> row[c], column c of the blocks in block order (not level-shifted).
SIMD_INLINE void LoadBlockRow(const BlockRows& rows, int r, V* row) {
  __m128i cols[8];
  TransposeRowIn(rows.blocks, rows.stride, r, cols);
  for (int c = 0; c < 8; ++c) row[c] = _mm256_cvtepu8_epi16(cols[c]);
}
// The inverse, through Narrow's range limit: saturate to -128..127, then add 128.
SIMD_INLINE void StoreBlockRow(const V* row, const BlockRows& rows, int r) {
  const __m128i flip = _mm_set1_epi8(static_cast<char>(0x80));
  __m128i k[8];
  for (int c = 0; c < 8; ++c) {
    k[c] = _mm_xor_si128(
        _mm_packs_epi16(_mm256_castsi256_si128(row[c]), _mm256_extracti128_si256(row[c], 1)),
        flip);
  }
  TransposeRowOut(k, rows.blocks, rows.stride, r);
}
#include "robustness/corruptions/internal/jpeg_simd.inc"
#pragma GCC pop_options
}  // namespace avx2

namespace avx512 {
#pragma GCC push_options
#pragma GCC target("avx512bw")
using V = __m512i;
constexpr int kLanes = 32;
SIMD_INLINE V Add16(V a, V b) { return _mm512_add_epi16(a, b); }
SIMD_INLINE V Sub16(V a, V b) { return _mm512_sub_epi16(a, b); }
SIMD_INLINE V AddSat16(V a, V b) { return _mm512_adds_epi16(a, b); }
SIMD_INLINE V Add32(V a, V b) { return _mm512_add_epi32(a, b); }
SIMD_INLINE V Sub32(V a, V b) { return _mm512_sub_epi32(a, b); }
SIMD_INLINE V Madd16(V a, V b) { return _mm512_madd_epi16(a, b); }
SIMD_INLINE V MaddAcc16(V acc, V a, V b) { return _mm512_add_epi32(acc, _mm512_madd_epi16(a, b)); }
constexpr bool kFusedMaddAdd = false;
SIMD_INLINE V MaddUbs16(V a, V b) { return _mm512_maddubs_epi16(a, b); }
SIMD_INLINE V MulhiU16(V a, V b) { return _mm512_mulhi_epu16(a, b); }
SIMD_INLINE V MulhiS16(V a, V b) { return _mm512_mulhi_epi16(a, b); }
SIMD_INLINE V Mullo16(V a, V b) { return _mm512_mullo_epi16(a, b); }
SIMD_INLINE V Packs32(V a, V b) { return _mm512_packs_epi32(a, b); }
SIMD_INLINE V PackUs16(V a, V b) { return _mm512_packus_epi16(a, b); }
SIMD_INLINE V UnpackLo16(V a, V b) { return _mm512_unpacklo_epi16(a, b); }
SIMD_INLINE V UnpackHi16(V a, V b) { return _mm512_unpackhi_epi16(a, b); }
SIMD_INLINE V UnpackLo8Zero(V a) { return _mm512_unpacklo_epi8(a, _mm512_setzero_si512()); }
SIMD_INLINE V UnpackHi8Zero(V a) { return _mm512_unpackhi_epi8(a, _mm512_setzero_si512()); }
SIMD_INLINE V Set8(int8_t x) { return _mm512_set1_epi8(x); }
SIMD_INLINE V Set16(int16_t x) { return _mm512_set1_epi16(x); }
SIMD_INLINE V Set32(int32_t x) { return _mm512_set1_epi32(x); }
SIMD_INLINE V Abs16(V a) { return _mm512_abs_epi16(a); }
SIMD_INLINE V Or(V a, V b) { return _mm512_or_si512(a, b); }
SIMD_INLINE V SrlCount16(V a, int count) { return _mm512_srl_epi16(a, _mm_cvtsi32_si128(count)); }
// Per-lane shifts by the broadcast pair: vpsrlvw is one ALU uop, vpsrlw by a register two.
SIMD_INLINE V SrlPair16(V a, int32_t pair) { return _mm512_srlv_epi16(a, _mm512_set1_epi32(pair)); }
// a with the sign of x (a >= 0; a = 0 where x = 0): no vpsignw in AVX-512, a masked negation.
SIMD_INLINE V SignOf16(V a, V x) {
  return _mm512_mask_sub_epi16(a, _mm512_movepi16_mask(x), _mm512_setzero_si512(), a);
}
SIMD_INLINE bool IsZero(V a) { return _mm512_test_epi16_mask(a, a) == 0; }
template <int k>
SIMD_INLINE V Srai16(V a) { return _mm512_srai_epi16(a, k); }
template <int k>
SIMD_INLINE V Slli16(V a) { return _mm512_slli_epi16(a, k); }
template <int k>
SIMD_INLINE V Srli16(V a) { return _mm512_srli_epi16(a, k); }
template <int k>
SIMD_INLINE V Srai32(V a) { return _mm512_srai_epi32(a, k); }
SIMD_INLINE V LoadV(const void* p) { return _mm512_loadu_si512(p); }
SIMD_INLINE void StoreV(void* p, V x) { _mm512_storeu_si512(p, x); }
SIMD_INLINE V LoadBytes(const uint8_t* p) {
  return _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
// vpmovuswb saturates unsigned: negative lanes go to 0 first.
SIMD_INLINE void StoreBytes(V x, uint8_t* p) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p),
                      _mm512_cvtusepi16_epi8(_mm512_max_epi16(x, _mm512_setzero_si512())));
}
using BlockRows = PlainBlockRows;
// Row r of 32 blocks (two groups of 16) -> row[c].
SIMD_INLINE void LoadBlockRow(const BlockRows& rows, int r, V* row) {
  uint8_t* const* blocks = rows.blocks;
  const int64_t stride = rows.stride;
  __m128i first[8], second[8];
  TransposeRowIn(blocks, stride, r, first);
  TransposeRowIn(blocks + 16, stride, r, second);
  for (int c = 0; c < 8; ++c) {
    row[c] = _mm512_cvtepu8_epi16(
        _mm256_inserti128_si256(_mm256_castsi128_si256(first[c]), second[c], 1));
  }
}
// The inverse, through Narrow's range limit (vpmovswb saturates signed, then add 128).
SIMD_INLINE void StoreBlockRow(const V* row, const BlockRows& rows, int r) {
  uint8_t* const* blocks = rows.blocks;
  const int64_t stride = rows.stride;
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
  __m128i first[8], second[8];
  for (int c = 0; c < 8; ++c) {
    const __m256i bytes = _mm256_xor_si256(_mm512_cvtsepi16_epi8(row[c]), flip);
    first[c] = _mm256_castsi256_si128(bytes);
    second[c] = _mm256_extracti128_si256(bytes, 1);
  }
  TransposeRowOut(first, blocks, stride, r);
  TransposeRowOut(second, blocks + 16, stride, r);
}
#include "robustness/corruptions/internal/jpeg_simd.inc"
#pragma GCC pop_options
}  // namespace avx512

// AVX-512BW's operations (the using-directive) with VNNI's vpdpwssd for MaddAcc16 (the kernels
// take their fused forms, kFusedMaddAdd: the same integers in fewer instructions) and VBMI's
// byte permutes for the block rows.
namespace avx512vnni {
#pragma GCC push_options
#pragma GCC target("avx512bw,avx512vnni,avx512vbmi")
using namespace avx512;  // NOLINT(build/namespaces): V and the operations
constexpr int kLanes = avx512::kLanes;  // the portable kernels' kLanes would be ambiguous
SIMD_INLINE V MaddAcc16(V acc, V a, V b) { return _mm512_dpwssd_epi32(acc, a, b); }
constexpr bool kFusedMaddAdd = true;

// Block rows from whole 64-byte rows: RoundTripPlanes lists blocks in raster order, so a group of
// 8 (lanes 8 q .. 8 q + 7) is one run of adjacent blocks (row r of all 8 is 64 contiguous bytes)
// or, where a block row ends inside the group, two runs: two masked loads (stores) give the
// group's row r, its 8 blocks' bytes in qwords. Groups of more runs (planes under 8 blocks wide,
// the repeated last block that pads the list) take AVX-512BW's transposes for the whole call.
struct BlockRows {
  uint8_t* const* blocks;
  int64_t stride;
  bool runs;  // every group is one or two runs
  // Addresses as integers (run two's base, moved back so that qword j is at second + 8 j, may
  // lie before its plane; the masks keep every access inside the runs).
  uintptr_t first[4], second[4];
  __mmask8 first_mask[4];  // run one's lanes; run two has the others
};
SIMD_INLINE BlockRows PrepareBlockRows(uint8_t* const* blocks, int64_t stride) {
  BlockRows rows{blocks, stride, true, {}, {}, {}};
  for (int q = 0; q < 4 && rows.runs; ++q) {
    uint8_t* const* g = blocks + 8 * q;
    int k = 1;
    while (k < 8 && g[k] == g[0] + 8 * k) ++k;
    rows.first[q] = reinterpret_cast<uintptr_t>(g[0]);
    rows.first_mask[q] = static_cast<__mmask8>((1u << k) - 1);
    rows.second[q] = k < 8 ? reinterpret_cast<uintptr_t>(g[k]) - 8 * k : rows.first[q];
    for (int j = k + 1; j < 8; ++j) rows.runs = rows.runs && g[j] == g[k] + 8 * (j - k);
  }
  return rows;
}
// out byte 8 c + j = in byte 8 j + c: an 8 x 8 byte transpose of each zmm (its own inverse).
SIMD_INLINE __m512i TransposeBytes8x8(__m512i x) {
  alignas(64) static constexpr uint8_t kIndex[64] = {
      0, 8,  16, 24, 32, 40, 48, 56, 1, 9,  17, 25, 33, 41, 49, 57, 2, 10, 18, 26, 34, 42,
      50, 58, 3, 11, 19, 27, 35, 43, 51, 59, 4, 12, 20, 28, 36, 44, 52, 60, 5, 13, 21, 29,
      37, 45, 53, 61, 6, 14, 22, 30, 38, 46, 54, 62, 7, 15, 23, 31, 39, 47, 55, 63};
  return _mm512_permutexvar_epi8(_mm512_load_si512(kIndex), x);
}
SIMD_INLINE __m512i Qwords(int a0, int a1, int a2, int a3, int a4, int a5, int a6, int a7) {
  return _mm512_set_epi64(a7, a6, a5, a4, a3, a2, a1, a0);
}
// Row r of 32 blocks -> row[c] (column c of the blocks in block order).
SIMD_INLINE void LoadBlockRow(const BlockRows& rows, int r, V* row) {
  if (!rows.runs) {
    avx512::LoadBlockRow(avx512::BlockRows{rows.blocks, rows.stride}, r, row);
    return;
  }
  const uintptr_t offset = static_cast<uintptr_t>(r * rows.stride);
  __m512i g[4];  // g[q] qword c: column c of blocks 8 q .. 8 q + 7
  for (int q = 0; q < 4; ++q) {
    const __m512i bytes = _mm512_mask_loadu_epi64(
        _mm512_maskz_loadu_epi64(rows.first_mask[q],
                                 reinterpret_cast<const void*>(rows.first[q] + offset)),
        static_cast<__mmask8>(~rows.first_mask[q]),
        reinterpret_cast<const void*>(rows.second[q] + offset));
    g[q] = TransposeBytes8x8(bytes);
  }
  // a: columns 0..3 of groups 0 and 1 alternating, b: 4..7; c, d the same of groups 2 and 3.
  const __m512i low = Qwords(0, 8, 1, 9, 2, 10, 3, 11);
  const __m512i high = Qwords(4, 12, 5, 13, 6, 14, 7, 15);
  const __m512i a = _mm512_permutex2var_epi64(g[0], low, g[1]);
  const __m512i b = _mm512_permutex2var_epi64(g[0], high, g[1]);
  const __m512i c = _mm512_permutex2var_epi64(g[2], low, g[3]);
  const __m512i d = _mm512_permutex2var_epi64(g[2], high, g[3]);
  // Two columns of all 32 blocks each: (0, 1), (2, 3) from a, c; (4, 5), (6, 7) from b, d.
  const __m512i even = Qwords(0, 1, 8, 9, 2, 3, 10, 11), odd = Qwords(4, 5, 12, 13, 6, 7, 14, 15);
  const __m512i pairs[4] = {
      _mm512_permutex2var_epi64(a, even, c), _mm512_permutex2var_epi64(a, odd, c),
      _mm512_permutex2var_epi64(b, even, d), _mm512_permutex2var_epi64(b, odd, d)};
  for (int k = 0; k < 4; ++k) {
    row[2 * k] = _mm512_cvtepu8_epi16(_mm512_castsi512_si256(pairs[k]));
    row[2 * k + 1] = _mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(pairs[k], 1));
  }
}
// The inverse, through Narrow's range limit (vpmovswb saturates signed, then add 128).
SIMD_INLINE void StoreBlockRow(const V* row, const BlockRows& rows, int r) {
  if (!rows.runs) {
    avx512::StoreBlockRow(row, avx512::BlockRows{rows.blocks, rows.stride}, r);
    return;
  }
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
  __m512i pairs[4];  // columns 2 k, 2 k + 1 of the 32 blocks
  for (int k = 0; k < 4; ++k) {
    const __m256i lo = _mm256_xor_si256(_mm512_cvtsepi16_epi8(row[2 * k]), flip);
    const __m256i hi = _mm256_xor_si256(_mm512_cvtsepi16_epi8(row[2 * k + 1]), flip);
    pairs[k] = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
  }
  // a: columns 0..3 of group 0 then group 1; b: columns 4..7; c, d: groups 2 and 3.
  const __m512i front = Qwords(0, 4, 8, 12, 1, 5, 9, 13), back = Qwords(2, 6, 10, 14, 3, 7, 11, 15);
  const __m512i a = _mm512_permutex2var_epi64(pairs[0], front, pairs[1]);
  const __m512i b = _mm512_permutex2var_epi64(pairs[2], front, pairs[3]);
  const __m512i c = _mm512_permutex2var_epi64(pairs[0], back, pairs[1]);
  const __m512i d = _mm512_permutex2var_epi64(pairs[2], back, pairs[3]);
  const __m512i first = Qwords(0, 1, 2, 3, 8, 9, 10, 11);
  const __m512i second = Qwords(4, 5, 6, 7, 12, 13, 14, 15);
  const __m512i g[4] = {
      _mm512_permutex2var_epi64(a, first, b), _mm512_permutex2var_epi64(a, second, b),
      _mm512_permutex2var_epi64(c, first, d), _mm512_permutex2var_epi64(c, second, d)};
  const uintptr_t offset = static_cast<uintptr_t>(r * rows.stride);
  for (int q = 0; q < 4; ++q) {
    const __m512i bytes = TransposeBytes8x8(g[q]);  // qword j: row r of block 8 q + j
    _mm512_mask_storeu_epi64(reinterpret_cast<void*>(rows.first[q] + offset),
                             rows.first_mask[q], bytes);
    _mm512_mask_storeu_epi64(reinterpret_cast<void*>(rows.second[q] + offset),
                             static_cast<__mmask8>(~rows.first_mask[q]), bytes);
  }
}
#include "robustness/corruptions/internal/jpeg_simd.inc"
#pragma GCC pop_options
}  // namespace avx512vnni
#endif  // __x86_64__ && __GNUC__

// Which kernels run: 0 portable, 1 AVX2 (16 blocks / pixels a step), 2 AVX-512BW (32), 3
// AVX-512BW with VNNI and VBMI (32).
std::atomic<int> g_jpeg_simd_limit{3};

int JpegSimdLevel() {
#if defined(__x86_64__) && defined(__GNUC__)
  static const int kSupported =
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni") &&
              __builtin_cpu_supports("avx512vbmi")
          ? 3
      : __builtin_cpu_supports("avx512bw")                                       ? 2
      : __builtin_cpu_supports("avx2")                                           ? 1
                                                                                 : 0;
  return std::min(kSupported, g_jpeg_simd_limit.load(std::memory_order_relaxed));
#else
  return 0;
#endif
}

// A component plane padded to whole blocks as libjpeg pads it before the DCT.
struct BlockPlane {
  int64_t blocks_wide = 0, blocks_high = 0;
  std::vector<uint8_t> data;  // (8 blocks_high) x (8 blocks_wide)
  int64_t stride() const { return 8 * blocks_wide; }
  uint8_t* row(int64_t y) { return data.data() + y * stride(); }
  void Resize(int64_t width, int64_t height) {
    blocks_wide = (width + 7) / 8;
    blocks_high = (height + 7) / 8;
    data.resize(static_cast<size_t>(64 * blocks_wide * blocks_high));
  }
  // Rows from..8 blocks_high - 1 repeat row from - 1 (jcprepct.c expand_bottom_edge).
  void ReplicateRowsFrom(int64_t from) {
    for (int64_t y = from; y < 8 * blocks_high; ++y) {
      std::memcpy(row(y), row(from - 1), static_cast<size_t>(stride()));
    }
  }
};

// Every block of the planes (same stride), 32 (AVX-512BW) or 16 at a time; the block count is
// padded to a multiple of 16 by repeating the last block (computed and stored again, the same
// bytes).
void RoundTripPlanes(std::initializer_list<BlockPlane*> planes, const QuantPlan& plan,
                     int level) {
  thread_local std::vector<uint8_t*> tls_blocks;  // reused: no allocation per image
  std::vector<uint8_t*>& blocks = tls_blocks;       // one TLS lookup, not one per block
  blocks.clear();
  int64_t stride = 0;
  for (BlockPlane* plane : planes) {
    stride = plane->stride();
    for (int64_t by = 0; by < plane->blocks_high; ++by) {
      for (int64_t bx = 0; bx < plane->blocks_wide; ++bx) {
        blocks.push_back(plane->row(8 * by) + 8 * bx);
      }
    }
  }
  while (blocks.size() % kLanes != 0) blocks.push_back(blocks.back());
  for (size_t i = 0; i < blocks.size();) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (level >= 2 && i + 32 <= blocks.size()) {  // a last 16 goes to AVX2
      if (level == 3) {
        avx512vnni::RoundTripBlocks(blocks.data() + i, stride, plan);
      } else {
        avx512::RoundTripBlocks(blocks.data() + i, stride, plan);
      }
      i += 32;
      continue;
    }
    if (level >= 1) {
      avx2::RoundTripBlocks(blocks.data() + i, stride, plan);
      i += kLanes;
      continue;
    }
#endif
    RoundTripBlocks16(blocks.data() + i, stride, plan);
    i += kLanes;
  }
}

// The per-row pixel loops, each a plain loop GCC vectorises, cloned like the blocks; where the
// CPU has AVX2 they only finish what the SIMD rows above leave (rows narrower than one step).
#define JPEG_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

// jccolor.c rgb_ycc_convert (16-bit fixed point; Cb, Cr rounded by 1/2 - epsilon), one row of
// n pixels, then the row padded to `padded` by repeating its last value (expand_right_edge).
// The fixed-point sums are computed in float32: every product and partial sum is an integer
// below 2^24 in magnitude, so exact, and the final shift is an exact scaling and truncation.
JPEG_CLONES void RgbToYRowFrom(int64_t x0, const uint8_t* __restrict r,
                               const uint8_t* __restrict g, const uint8_t* __restrict b,
                               int64_t n, int64_t padded, uint8_t* __restrict y) {
  for (int64_t x = x0; x < n; ++x) {
    const float sum = 19595.0f * r[x] + 38470.0f * g[x] + 7471.0f * b[x] + 32768.0f;
    y[x] = static_cast<uint8_t>(static_cast<int32_t>(sum * 0x1p-16f));
  }
  for (int64_t x = n; x < padded; ++x) y[x] = y[n - 1];
}

JPEG_CLONES void RgbToCbCrRowFrom(int64_t x0, const uint8_t* __restrict r,
                                  const uint8_t* __restrict g, const uint8_t* __restrict b,
                                  int64_t n, int64_t padded, uint8_t* __restrict cb,
                                  uint8_t* __restrict cr) {
  constexpr float kOffset = (128 << 16) + 32767;  // CBCR_OFFSET + ONE_HALF - 1
  for (int64_t x = x0; x < n; ++x) {
    const float rr = r[x], gg = g[x], bb = b[x];
    const float sum_b = -11059.0f * rr - 21709.0f * gg + 32768.0f * bb + kOffset;
    const float sum_r = 32768.0f * rr - 27439.0f * gg - 5329.0f * bb + kOffset;
    cb[x] = static_cast<uint8_t>(static_cast<int32_t>(sum_b * 0x1p-16f));
    cr[x] = static_cast<uint8_t>(static_cast<int32_t>(sum_r * 0x1p-16f));
  }
  for (int64_t x = n; x < padded; ++x) {
    cb[x] = cb[n - 1];
    cr[x] = cr[n - 1];
  }
}

// jcsample.c h2v2_downsample: 2 x 2 means with the bias 1, 2, 1, 2, ... along the row.
JPEG_CLONES void DownsampleRowFrom(int64_t j0, const uint8_t* __restrict r0,
                                   const uint8_t* __restrict r1, int64_t n,
                                   uint8_t* __restrict out) {
  for (int64_t j = j0; j < n; ++j) {
    const uint16_t sum = static_cast<uint16_t>(r0[2 * j] + r0[2 * j + 1] + r1[2 * j] +
                                               r1[2 * j + 1] + 1 + (j & 1));
    out[j] = static_cast<uint8_t>(sum >> 2);
  }
}

// jdsample.c h2v2_fancy_upsample for one output row: column sums 3 near + far, then 3/4 and
// 1/4 of the neighbouring sums, bias 8 on even and 7 on odd outputs; the first and last
// columns use their own sum as the missing neighbour. n >= 2 input columns, 2 n outputs.
// In two halves: the column sums from j0 on, then the outputs from the sums, the interior from
// j = out_from on (where the SIMD rows stopped; 1 without them).
JPEG_CLONES void ColumnSumsFrom(int64_t j0, const uint8_t* __restrict near,
                                const uint8_t* __restrict far, int64_t n,
                                int16_t* __restrict sum) {
  for (int64_t j = j0; j < n; ++j) sum[j] = static_cast<int16_t>(3 * near[j] + far[j]);
}

// The first and last two outputs.
__attribute__((always_inline)) inline void UpsampleEdges(const int16_t* sum, int64_t n,
                                                         uint8_t* out) {
  out[0] = static_cast<uint8_t>((4 * sum[0] + 8) >> 4);
  out[1] = static_cast<uint8_t>((3 * sum[0] + sum[1] + 7) >> 4);
  out[2 * n - 2] = static_cast<uint8_t>((3 * sum[n - 1] + sum[n - 2] + 8) >> 4);
  out[2 * n - 1] = static_cast<uint8_t>((4 * sum[n - 1] + 7) >> 4);
}

JPEG_CLONES void UpsampleFromSums(int64_t out_from, const int16_t* __restrict sum, int64_t n,
                                  uint8_t* __restrict out) {
  UpsampleEdges(sum, n, out);
  for (int64_t j = out_from; j + 1 < n; ++j) {
    const int16_t centre = static_cast<int16_t>(3 * sum[j]);
    out[2 * j] = static_cast<uint8_t>(static_cast<int16_t>(centre + sum[j - 1] + 8) >> 4);
    out[2 * j + 1] = static_cast<uint8_t>(static_cast<int16_t>(centre + sum[j + 1] + 7) >> 4);
  }
}

// jdcolor.c ycc_rgb_convert: the tables' arithmetic written out (the products and sums in
// float32, exact as above, then converted to int32 and shifted), clamped to 0..255.
__attribute__((always_inline)) inline void YccToRgbPixels(int64_t x0, const uint8_t* __restrict y,
                                                          const uint8_t* __restrict cb,
                                                          const uint8_t* __restrict cr, int64_t n,
                                                          uint8_t* __restrict r,
                                                          uint8_t* __restrict g,
                                                          uint8_t* __restrict b) {
  for (int64_t x = x0; x < n; ++x) {
    const float db = cb[x] - 128.0f, dr = cr[x] - 128.0f;
    const int32_t l = y[x];
    const int32_t red = static_cast<int32_t>(91881.0f * dr + 32768.0f) >> 16;
    const int32_t green = static_cast<int32_t>(-22554.0f * db + 32768.0f - 46802.0f * dr) >> 16;
    const int32_t blue = static_cast<int32_t>(116130.0f * db + 32768.0f) >> 16;
    r[x] = static_cast<uint8_t>(std::clamp(l + red, 0, 255));
    g[x] = static_cast<uint8_t>(std::clamp(l + green, 0, 255));
    b[x] = static_cast<uint8_t>(std::clamp(l + blue, 0, 255));
  }
}

JPEG_CLONES void YccToRgbRowFrom(int64_t x0, const uint8_t* __restrict y,
                                 const uint8_t* __restrict cb, const uint8_t* __restrict cr,
                                 int64_t n, uint8_t* __restrict r, uint8_t* __restrict g,
                                 uint8_t* __restrict b) {
  YccToRgbPixels(x0, y, cb, cr, n, r, g, b);
}


// The row kernels: the widest SIMD steps the row takes (AVX-512BW rows are at least 32 wide,
// AVX2 rows 16), the portable loop for the rest. `level` (JpegSimdLevel, once per image) is a
// parameter of each.
#if defined(__x86_64__) && defined(__GNUC__)
#define JPEG_SIMD_ROW(done, none, call)                \
  do {                                                 \
    if (level == 3) done = avx512vnni::call;           \
    if (level == 2) done = avx512::call;               \
    if (level >= 1 && done == none) done = avx2::call; \
  } while (false)
#else
#define JPEG_SIMD_ROW(done, none, call) \
  do {                                  \
    (void)level;                        \
  } while (false)
#endif

// Y of a row into y (padded to y_padded), Cb and Cr into cb, cr (padded to c_padded).
void RgbToYCbCrRow(int level, const uint8_t* r, const uint8_t* g, const uint8_t* b, int64_t n,
                   int64_t y_padded, int64_t c_padded, uint8_t* y, uint8_t* cb, uint8_t* cr) {
  int64_t done = 0;
  JPEG_SIMD_ROW(done, 0, RgbToYCbCrRow(r, g, b, n, y, cb, cr));
  RgbToYRowFrom(done, r, g, b, n, y_padded, y);
  RgbToCbCrRowFrom(done, r, g, b, n, c_padded, cb, cr);
}

void DownsampleRow(int level, const uint8_t* r0, const uint8_t* r1, int64_t n, uint8_t* out) {
  int64_t done = 0;
  JPEG_SIMD_ROW(done, 0, DownsampleRow(r0, r1, n, out));
  DownsampleRowFrom(done, r0, r1, n, out);
}

void ColumnSums(int level, const uint8_t* near, const uint8_t* far, int64_t n, int16_t* sum) {
  int64_t done = 0;
  JPEG_SIMD_ROW(done, 0, ColumnSums(near, far, n, sum));
  ColumnSumsFrom(done, near, far, n, sum);
}

// One decoded RGB row of w pixels from its luma row and the chroma planes' column sums (n each):
// the upsampling and colour conversion fused where a SIMD row applies (the edge pixels 0, 1,
// 2 n - 2, 2 n - 1 through b_up / r_up and the portable loops), separate otherwise.
void DecodeRow(int level, const uint8_t* luma, const int16_t* cb_sum, const int16_t* cr_sum,
               int64_t n, int64_t w, uint8_t* b_up, uint8_t* r_up, uint8_t* r, uint8_t* g,
               uint8_t* b) {
  bool fused = false;
  JPEG_SIMD_ROW(fused, false, UpsampleYccToRgbInterior(luma, cb_sum, cr_sum, n, r, g, b));
  if (fused) {  // the edges, inline (a call per pixel pair cost more than the pixels)
    UpsampleEdges(cb_sum, n, b_up);
    UpsampleEdges(cr_sum, n, r_up);
    YccToRgbPixels(0, luma, b_up, r_up, 2, r, g, b);
    YccToRgbPixels(2 * n - 2, luma, b_up, r_up, w, r, g, b);
    return;
  }
  int64_t cb_done = 1, cr_done = 1, rgb_done = 0;
  JPEG_SIMD_ROW(cb_done, 1, UpsampleInterior(cb_sum, n, b_up));
  UpsampleFromSums(cb_done, cb_sum, n, b_up);
  JPEG_SIMD_ROW(cr_done, 1, UpsampleInterior(cr_sum, n, r_up));
  UpsampleFromSums(cr_done, cr_sum, n, r_up);
  JPEG_SIMD_ROW(rgb_done, 0, YccToRgbRow(luma, b_up, r_up, w, r, g, b));
  YccToRgbRowFrom(rgb_done, luma, b_up, r_up, w, r, g, b);
}
#undef JPEG_SIMD_ROW

}  // namespace

void SetJpegSimdForTesting(int limit) {
  CHECK(limit >= 0 && limit <= 3) << limit;
  g_jpeg_simd_limit.store(limit, std::memory_order_relaxed);
}

bool FastJpegApplies(const Uint8Image& image, int quality) {
  return quality >= 1 && quality <= 100 && image.height >= 1 &&
         ((image.channels == 1 && image.width >= 1) ||
          (image.channels == 3 && image.width >= kFastJpegMinRgbWidth));
}

Uint8Image FastJpegRoundTrip(const Uint8Image& image, int quality) {
  CHECK(FastJpegApplies(image, quality))
      << image.channels << " x " << image.height << " x " << image.width << " q" << quality;
  const int64_t h = image.height, w = image.width;
  const QualityPlans& plans = PlansFor(quality);
  const int level = JpegSimdLevel();
  Uint8Image out(image.channels, h, w);
  // Scratch reused by the thread's next image (every byte read is written first: rows below h
  // and columns past w are the padding the code writes).
  struct Scratch {
    BlockPlane luma, cb, cr;
    std::vector<uint8_t> cb_rows, cr_rows, b_up, r_up;
    std::vector<int16_t> sum;
  };
  thread_local Scratch scratch;  // one TLS lookup
  Scratch& s = scratch;
  BlockPlane &luma = s.luma, &cb = s.cb, &cr = s.cr;
  std::vector<uint8_t> &cb_rows = s.cb_rows, &cr_rows = s.cr_rows, &b_up = s.b_up, &r_up = s.r_up;
  std::vector<int16_t>& sum = s.sum;
  luma.Resize(w, h);
  if (image.channels == 1) {
    for (int64_t y = 0; y < h; ++y) {
      uint8_t* row = luma.row(y);
      std::memcpy(row, image.plane(0) + y * w, static_cast<size_t>(w));
      std::fill(row + w, row + luma.stride(), row[w - 1]);
    }
    luma.ReplicateRowsFrom(h);
    RoundTripPlanes({&luma}, plans.luma, level);
    for (int64_t y = 0; y < h; ++y) {
      std::memcpy(out.plane(0) + y * w, luma.row(y), static_cast<size_t>(w));
    }
    return out;
  }
  const uint8_t* red = image.plane(0);
  const uint8_t* green = image.plane(1);
  const uint8_t* blue = image.plane(2);
  // 4:2:0 (jcsample.c h2v2_downsample): full-resolution rows padded to 2 x the chroma plane's
  // padded width by repeating the last column, an odd last row paired with itself, 2 x 2 means
  // with the alternating bias 1, 2. Y, Cb and Cr of each full-resolution row in one pass.
  const int64_t cw = (w + 1) / 2, ch = (h + 1) / 2;
  cb.Resize(cw, ch);
  cr.Resize(cw, ch);
  const int64_t full = 2 * cb.stride();
  cb_rows.resize(static_cast<size_t>(2 * full));
  cr_rows.resize(cb_rows.size());
  for (int64_t i = 0; i < ch; ++i) {
    for (int k = 0; k < 2; ++k) {
      const int64_t y = 2 * i + k;
      if (y == h) {  // the odd last row's pair: itself again
        std::memcpy(cb_rows.data() + full, cb_rows.data(), static_cast<size_t>(full));
        std::memcpy(cr_rows.data() + full, cr_rows.data(), static_cast<size_t>(full));
        continue;
      }
      const int64_t o = y * w;
      RgbToYCbCrRow(level, red + o, green + o, blue + o, w, luma.stride(), full, luma.row(y),
                    cb_rows.data() + k * full, cr_rows.data() + k * full);
    }
    DownsampleRow(level, cb_rows.data(), cb_rows.data() + full, cb.stride(), cb.row(i));
    DownsampleRow(level, cr_rows.data(), cr_rows.data() + full, cr.stride(), cr.row(i));
  }
  luma.ReplicateRowsFrom(h);
  cb.ReplicateRowsFrom(ch);
  cr.ReplicateRowsFrom(ch);
  RoundTripPlanes({&luma}, plans.luma, level);
  RoundTripPlanes({&cb, &cr}, plans.chroma, level);
  // Decoding: jdsample.c h2v2_fancy_upsample (triangle filter, weights 3/4 near and 1/4 far in
  // each direction, rows outside the plane repeat its edge rows, bias 8 / 7 on even / odd
  // columns), then jdcolor.c ycc_rgb_convert.
  sum.resize(static_cast<size_t>(2 * cw));
  int16_t* cb_sum = sum.data();
  int16_t* cr_sum = sum.data() + cw;
  b_up.resize(static_cast<size_t>(2 * cw));
  r_up.resize(b_up.size());
  for (int64_t y = 0; y < h; ++y) {
    const int64_t near = y / 2;
    const int64_t far = std::clamp<int64_t>(y % 2 == 0 ? near - 1 : near + 1, 0, ch - 1);
    ColumnSums(level, cb.row(near), cb.row(far), cw, cb_sum);
    ColumnSums(level, cr.row(near), cr.row(far), cw, cr_sum);
    const int64_t o = y * w;
    DecodeRow(level, luma.row(y), cb_sum, cr_sum, cw, w, b_up.data(), r_up.data(), out.plane(0) + o,
              out.plane(1) + o, out.plane(2) + o);
  }
  return out;
}

absl::StatusOr<Uint8Image> JpegRoundTrip(const Uint8Image& image, int quality) {
  if (FastJpegApplies(image, quality)) return FastJpegRoundTrip(image, quality);
  return LibjpegRoundTrip(image, quality);
}

}  // namespace robustness::corruptions_internal
