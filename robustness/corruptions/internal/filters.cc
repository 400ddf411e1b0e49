#include "robustness/corruptions/internal/filters.h"

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>

#include <jpeglib.h>
#include <opencv2/core/utility.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace robustness::corruptions_internal {
namespace {

std::once_flag g_serial_opencv;

std::vector<double> GaussianWeights(double sigma, double truncate) {
  const int radius = static_cast<int>(truncate * sigma + 0.5);
  std::vector<double> w(2 * radius + 1);
  double sum = 0.0;
  for (int k = -radius; k <= radius; ++k) {
    w[k + radius] = std::exp(-0.5 / (sigma * sigma) * k * k);
    sum += w[k + radius];
  }
  for (double& x : w) x /= sum;
  return w;
}

int64_t BorderIndex(int64_t i, int64_t n, Border border) {
  return border == Border::kNearest ? Clamp(i, n) : ReflectHalf(i, n);
}

}  // namespace

void UseSerialOpenCv() {
  std::call_once(g_serial_opencv, [] { cv::setNumThreads(0); });
}

namespace {
typedef double V4 __attribute__((vector_size(32)));
inline V4 Load4(const double* p) {
  V4 v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
}  // namespace

// GCC vector types: 32 outputs in eight 4-lane accumulators across all taps (one ymm each under
// AVX2, two xmm halves otherwise), then 8 and then single outputs for the tail. Eight independent
// accumulators keep the adder busy (an add's latency is 4 cycles; two chains left it idle three
// quarters of the time). An explicit form, since the auto-vectoriser gathered across taps. Every
// output's terms are added in tap order whichever block computes it.
__attribute__((target_clones("avx2", "default"))) void SumOfShiftedRows(
    const double* const* rows, const double* weights, int taps, double* out, int64_t n) {
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    V4 a[8] = {};
    for (int t = 0; t < taps; ++t) {
      const double* s = rows[t] + i;
      const V4 w = {weights[t], weights[t], weights[t], weights[t]};
      for (int k = 0; k < 8; ++k) a[k] += w * Load4(s + 4 * k);
    }
    std::memcpy(out + i, a, sizeof(a));
  }
  for (; i + 8 <= n; i += 8) {
    V4 a = {0, 0, 0, 0}, b = {0, 0, 0, 0};
    for (int t = 0; t < taps; ++t) {
      const double* s = rows[t] + i;
      const V4 w = {weights[t], weights[t], weights[t], weights[t]};
      a += w * Load4(s);
      b += w * Load4(s + 4);
    }
    std::memcpy(out + i, &a, sizeof(a));
    std::memcpy(out + i + 4, &b, sizeof(b));
  }
  for (; i < n; ++i) {
    double acc = 0;
    for (int t = 0; t < taps; ++t) acc += weights[t] * rows[t][i];
    out[i] = acc;
  }
}

// Both passes are sums of shifted rows, so they vectorise along the contiguous axis; each
// value's terms are added in tap order, as SciPy's correlate1d adds them. In the vertical pass
// the rows whose taps all lie inside the image are one long shifted row (row y + 1's taps are
// row y's moved by one width), so they take a single call.
void GaussianFilter(const double* in, int64_t height, int64_t width, double sigma_y,
                    double sigma_x, double truncate, Border border, double* out) {
  // Scratch kept per thread (a thread-local lookup in a shared library is a call: once here).
  struct Scratch {
    std::vector<double> buffer, result, padded;
    std::vector<const double*> rows;
  };
  thread_local Scratch scratch;
  Scratch& tls = scratch;
  std::vector<double>& buffer = tls.buffer;
  std::vector<double>& result = tls.result;
  std::vector<double>& padded = tls.padded;
  std::vector<const double*>& rows = tls.rows;
  buffer.assign(in, in + height * width);
  if (sigma_y > 0) {
    const std::vector<double> w = GaussianWeights(sigma_y, truncate);
    const int64_t r = static_cast<int64_t>(w.size() / 2);
    const int taps = static_cast<int>(w.size());
    result.resize(static_cast<size_t>(height * width));
    rows.resize(w.size());
    const int64_t interior_begin = std::min(r, height), interior_end = std::max(height - r, interior_begin);
    for (int64_t y = 0; y < height; ++y) {
      if (y == interior_begin && interior_end > interior_begin) {
        for (int64_t k = 0; k < taps; ++k) rows[k] = buffer.data() + (y + k - r) * width;
        SumOfShiftedRows(rows.data(), w.data(), taps, result.data() + y * width,
                         (interior_end - interior_begin) * width);
        y = interior_end - 1;
        continue;
      }
      for (int64_t k = 0; k < taps; ++k) {
        rows[k] = buffer.data() + BorderIndex(y + k - r, height, border) * width;
      }
      SumOfShiftedRows(rows.data(), w.data(), taps, result.data() + y * width, width);
    }
    buffer.swap(result);
  }
  if (sigma_x > 0) {
    const std::vector<double> w = GaussianWeights(sigma_x, truncate);
    const int64_t r = static_cast<int64_t>(w.size() / 2);
    padded.resize(static_cast<size_t>(width + 2 * r));
    rows.resize(w.size());
    for (size_t k = 0; k < w.size(); ++k) rows[k] = padded.data() + k;
    std::vector<int64_t> left(static_cast<size_t>(r)), right(static_cast<size_t>(r));
    for (int64_t i = 0; i < r; ++i) {
      left[i] = BorderIndex(i - r, width, border);
      right[i] = BorderIndex(width + i, width, border);
    }
    for (int64_t y = 0; y < height; ++y) {
      double* line = buffer.data() + y * width;
      for (int64_t i = 0; i < r; ++i) {
        padded[i] = line[left[i]];
        padded[r + width + i] = line[right[i]];
      }
      std::copy_n(line, width, padded.data() + r);
      SumOfShiftedRows(rows.data(), w.data(), static_cast<int>(w.size()), line, width);
    }
  }
  std::copy(buffer.begin(), buffer.end(), out);
}

void GaussianFilterPlanes(Planes* x, double sigma, Border border) {
  for (int64_t c = 0; c < x->channels; ++c) {
    GaussianFilter(x->plane(c), x->height, x->width, sigma, sigma, 4.0, border, x->plane(c));
  }
}

Planes MotionBlur(const Planes& x, int radius, double sigma, double angle_degrees) {
  const int width = 2 * radius + 1;
  std::vector<double> kernel(width);
  double sum = 0.0;
  for (int i = 0; i < width; ++i) {
    kernel[i] = std::exp(-(static_cast<double>(i) * i) / (2 * sigma * sigma)) /
                (std::sqrt(2 * M_PI) * sigma);
    sum += kernel[i];
  }
  for (double& k : kernel) k /= sum;
  const double radians = angle_degrees * M_PI / 180.0;
  const double p0 = width * std::sin(radians), p1 = width * std::cos(radians);
  const double hypot = std::hypot(p0, p1);
  Planes out(x.channels, x.height, x.width, 0.0);
  for (int i = 0; i < width; ++i) {
    // The reference shifts the image by (-dy, -dx) with these dy, dx, replicating the edge.
    const int64_t dy = -static_cast<int64_t>(std::ceil(i * p0 / hypot - 0.5));
    const int64_t dx = -static_cast<int64_t>(std::ceil(i * p1 / hypot - 0.5));
    if (std::abs(dy) >= x.height || std::abs(dx) >= x.width) break;  // no renormalising
    const double k = kernel[i];
    const int64_t w = x.width;
    const int64_t c_begin = std::max<int64_t>(0, dx), c_end = std::min<int64_t>(w, w + dx);
    for (int64_t ch = 0; ch < x.channels; ++ch) {
      for (int64_t r = 0; r < x.height; ++r) {
        const double* src = x.plane(ch) + Clamp(r - dy, x.height) * w;
        double* dst = out.plane(ch) + r * w;
        for (int64_t c = 0; c < c_begin; ++c) dst[c] += k * src[0];
        for (int64_t c = c_begin; c < c_end; ++c) dst[c] += k * src[c - dx];
        for (int64_t c = std::max(c_end, c_begin); c < w; ++c) dst[c] += k * src[w - 1];
      }
    }
  }
  return out;
}

namespace {

// SciPy zoom, order 1, grid_mode False, along one axis: for each output index the two input
// taps and the weight of the second.
struct LinearTaps {
  std::vector<int64_t> i0, i1;
  std::vector<double> f;
};

LinearTaps ZoomTaps(int64_t in, int64_t out, int64_t keep) {
  LinearTaps t;
  const double scale = out > 1 ? static_cast<double>(in - 1) / static_cast<double>(out - 1) : 1.0;
  for (int64_t j = 0; j < keep; ++j) {
    const double p = j * scale;
    int64_t a = static_cast<int64_t>(std::floor(p));
    double f = p - a;
    if (a >= in - 1) {
      a = in - 1;
      f = 0.0;
    }
    t.i0.push_back(a);
    t.i1.push_back(std::min(a + 1, in - 1));
    t.f.push_back(f);
  }
  return t;
}

}  // namespace

Planes ClippedZoom(const Planes& x, double zoom, int64_t max_height, int64_t max_width,
                   bool float32) {
  const int64_t ch0 = static_cast<int64_t>(std::ceil(x.height / zoom));
  const int64_t ch1 = static_cast<int64_t>(std::ceil(x.width / zoom));
  const int64_t top0 = (x.height - ch0) / 2, top1 = (x.width - ch1) / 2;
  // Python's round(): half to even.
  const int64_t out0 = static_cast<int64_t>(std::nearbyint(ch0 * zoom));
  const int64_t out1 = static_cast<int64_t>(std::nearbyint(ch1 * zoom));
  const int64_t keep0 = std::min(out0, max_height), keep1 = std::min(out1, max_width);
  const LinearTaps ty = ZoomTaps(ch0, out0, keep0), tx = ZoomTaps(ch1, out1, keep1);
  Planes out(x.channels, keep0, keep1);
  for (int64_t c = 0; c < x.channels; ++c) {
    for (int64_t i = 0; i < keep0; ++i) {
      const double* r0 = x.plane(c) + (top0 + ty.i0[i]) * x.width + top1;
      const double* r1 = x.plane(c) + (top0 + ty.i1[i]) * x.width + top1;
      const double fy = ty.f[i];
      double* o = out.plane(c) + i * keep1;
      for (int64_t j = 0; j < keep1; ++j) {
        const double fx = tx.f[j];
        const int64_t a = tx.i0[j], b = tx.i1[j];
        const double v = (1 - fy) * ((1 - fx) * r0[a] + fx * r0[b]) +
                         fy * ((1 - fx) * r1[a] + fx * r1[b]);
        o[j] = float32 ? static_cast<double>(static_cast<float>(v)) : v;
      }
    }
  }
  return out;
}

std::vector<float> PlasmaFractal(int64_t map_size, double wibble_decay, Random* random) {
  const int64_t p = map_size;
  CHECK(p >= 1 && (p & (p - 1)) == 0) << "map size must be a power of two: " << p;
  std::vector<float> m(static_cast<size_t>(p * p), 0.0f);
  auto at = [&](int64_t y, int64_t x) -> float& { return m[y * p + x]; };
  double wibble = 100;
  for (int64_t step = p; step >= 2; step /= 2) {
    const int64_t n = p / step, half = step / 2;
    auto noisy = [&](float sum) {
      return static_cast<float>(sum / 4.0f + wibble * random->Uniform(-wibble, wibble));
    };
    // Squares: the four (toroidal) corners around each centre.
    // Toroidal neighbours without a division per cell (a % n per cell was most of the time).
    for (int64_t i = 0; i < n; ++i) {
      const int64_t i1 = i + 1 == n ? 0 : i + 1;
      for (int64_t j = 0; j < n; ++j) {
        const int64_t j1 = j + 1 == n ? 0 : j + 1;
        const float s = (at(i * step, j * step) + at(i1 * step, j * step)) +
                        (at(i * step, j1 * step) + at(i1 * step, j1 * step));
        at(i * step + half, j * step + half) = noisy(s);
      }
    }
    // Diamonds on the rows of the corners, then on the columns.
    std::vector<float> values(static_cast<size_t>(n * n));
    for (int64_t i = 0; i < n; ++i) {
      const int64_t im = i == 0 ? n - 1 : i - 1;
      for (int64_t j = 0; j < n; ++j) {
        const int64_t j1 = j + 1 == n ? 0 : j + 1;
        const float s = (at(i * step + half, j * step + half) + at(im * step + half, j * step + half)) +
                        (at(i * step, j * step) + at(i * step, j1 * step));
        values[i * n + j] = noisy(s);
      }
    }
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < n; ++j) at(i * step, j * step + half) = values[i * n + j];
    }
    for (int64_t i = 0; i < n; ++i) {
      const int64_t i1 = i + 1 == n ? 0 : i + 1;
      for (int64_t j = 0; j < n; ++j) {
        const int64_t jm = j == 0 ? n - 1 : j - 1;
        const float s = (at(i * step + half, j * step + half) + at(i * step + half, jm * step + half)) +
                        (at(i * step, j * step) + at(i1 * step, j * step));
        values[i * n + j] = noisy(s);
      }
    }
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < n; ++j) at(i * step + half, j * step) = values[i * n + j];
    }
    wibble /= wibble_decay;
  }
  const float lo = *std::min_element(m.begin(), m.end());
  for (float& v : m) v -= lo;
  const float hi = *std::max_element(m.begin(), m.end());
  if (hi > 0) {
    for (float& v : m) v /= hi;
  }
  return m;
}

void RgbToHsv(double r, double g, double b, double* h, double* s, double* v) {
  const double mx = std::max({r, g, b}), mn = std::min({r, g, b});
  const double delta = mx - mn;
  *v = mx;
  if (delta == 0.0) {
    *s = 0.0;
    *h = 0.0;
    return;
  }
  *s = delta / mx;
  double hh;
  // skimage assigns red, then green, then blue: the last match wins on ties.
  if (b == mx) {
    hh = 4.0 + (r - g) / delta;
  } else if (g == mx) {
    hh = 2.0 + (b - r) / delta;
  } else {
    hh = (g - b) / delta;
  }
  hh /= 6.0;
  hh -= std::floor(hh);  // Python's % 1.
  *h = hh;
}

void HsvToRgb(double h, double s, double v, double* r, double* g, double* b) {
  const double hi_f = std::floor(h * 6);
  const double f = h * 6 - hi_f;
  const double p = v * (1 - s), q = v * (1 - f * s), t = v * (1 - (1 - f) * s);
  const int hi = static_cast<int>(static_cast<uint8_t>(static_cast<int64_t>(hi_f))) % 6;
  switch (hi) {
    case 0: *r = v; *g = t; *b = p; break;
    case 1: *r = q; *g = v; *b = p; break;
    case 2: *r = p; *g = v; *b = t; break;
    case 3: *r = p; *g = q; *b = v; break;
    case 4: *r = t; *g = p; *b = v; break;
    default: *r = v; *g = p; *b = q; break;
  }
}

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

absl::StatusOr<Uint8Image> JpegRoundTrip(const Uint8Image& image, int quality) {
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

Uint8Image PilNearestResize(const Uint8Image& image, int64_t height, int64_t width) {
  // Pillow's ImagingScaleAffine: the source coordinate is accumulated (xo += a), not multiplied,
  // and the accumulated value is what is truncated; done the same way here.
  std::vector<int64_t> xs(width), ys(height);
  const double ax = static_cast<double>(image.width) / width;
  const double ay = static_cast<double>(image.height) / height;
  double xo = ax * 0.5;
  for (int64_t x = 0; x < width; ++x, xo += ax) xs[x] = std::min<int64_t>(xo, image.width - 1);
  double yo = ay * 0.5;
  for (int64_t y = 0; y < height; ++y, yo += ay) ys[y] = std::min<int64_t>(yo, image.height - 1);
  Uint8Image out(image.channels, height, width);
  for (int64_t c = 0; c < image.channels; ++c) {
    for (int64_t y = 0; y < height; ++y) {
      uint8_t* dst = out.plane(c) + y * width;
      if (y > 0 && ys[y] == ys[y - 1]) {  // an enlarged row: the one above, again
        std::copy_n(dst - width, width, dst);
        continue;
      }
      const uint8_t* src = image.plane(c) + ys[y] * image.width;
      for (int64_t x = 0; x < width; ++x) dst[x] = src[xs[x]];
    }
  }
  return out;
}

}  // namespace robustness::corruptions_internal
