#include "robustness/augmentation/pil_ops.h"

#include <algorithm>
#include <cmath>

#include "glog/logging.h"

namespace robustness {
namespace {

using Lut = std::array<uint8_t, 256>;

Uint8Image ApplyLuts(const Uint8Image& image, const std::vector<Lut>& luts) {
  CHECK_EQ(static_cast<int64_t>(luts.size()), image.channels);
  Uint8Image out = image;
  const int64_t n = image.plane_size();
  for (int64_t c = 0; c < image.channels; ++c) {
    uint8_t* p = out.plane(c);
    const Lut& lut = luts[c];
    for (int64_t i = 0; i < n; ++i) p[i] = lut[p[i]];
  }
  return out;
}

Uint8Image ApplyLut(const Uint8Image& image, const Lut& lut) {
  return ApplyLuts(image, std::vector<Lut>(image.channels, lut));
}

std::array<int64_t, 256> Histogram(const uint8_t* p, int64_t n) {
  std::array<int64_t, 256> h{};
  for (int64_t i = 0; i < n; ++i) ++h[p[i]];
  return h;
}

Lut IdentityLut() {
  Lut lut;
  for (int i = 0; i < 256; ++i) lut[i] = static_cast<uint8_t>(i);
  return lut;
}

// Convert.c's rgb2l (Pillow >= 9.1 rounds with + 2^15).
uint8_t Luma(int r, int g, int b) {
  return static_cast<uint8_t>((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16);
}

Uint8Image Grey(const Uint8Image& image) {  // convert("L") as one plane
  if (image.channels == 1) return image;
  CHECK_EQ(image.channels, 3);
  Uint8Image out(1, image.height, image.width);
  const uint8_t *r = image.plane(0), *g = image.plane(1), *b = image.plane(2);
  for (int64_t i = 0; i < image.plane_size(); ++i) out.data[i] = Luma(r[i], g[i], b[i]);
  return out;
}

// Blend.c's ImagingBlend(degenerate, image, alpha) with alpha a C float.
Uint8Image Blend(const Uint8Image& degenerate, const Uint8Image& image, double factor) {
  const float alpha = static_cast<float>(factor);
  if (alpha == 0.0f) return degenerate;
  if (alpha == 1.0f) return image;
  Uint8Image out = image;
  const bool interpolate = alpha >= 0.0f && alpha <= 1.0f;
  for (size_t i = 0; i < out.data.size(); ++i) {
    const int d = degenerate.data[i];
    const float v = static_cast<float>(d) + alpha * static_cast<float>(image.data[i] - d);
    if (interpolate) {
      out.data[i] = static_cast<uint8_t>(v);
    } else {
      out.data[i] = v <= 0.0f ? 0 : v >= 255.0f ? 255 : static_cast<uint8_t>(v);
    }
  }
  return out;
}

// Filter.c's ImagingFilter3x3 with ImageFilter.SMOOTH: float32 kernel 1/13 and 5/13, offset 0.5
// (rounding), rows accumulated bottom (y+1), middle, top (y-1) as Pillow does; border copied.
Uint8Image Smooth(const Uint8Image& image) {
  Uint8Image out = image;
  const int64_t h = image.height, w = image.width;
  if (h < 3 || w < 3) return out;
  const float k1 = 1.0f / 13.0f, k5 = 5.0f / 13.0f;
  for (int64_t c = 0; c < image.channels; ++c) {
    const uint8_t* in = image.plane(c);
    uint8_t* o = out.plane(c);
    for (int64_t y = 1; y < h - 1; ++y) {
      const uint8_t* up = in + (y - 1) * w;
      const uint8_t* mid = in + y * w;
      const uint8_t* down = in + (y + 1) * w;
      for (int64_t x = 1; x < w - 1; ++x) {
        float ss = 0.5f;
        ss += float(down[x - 1]) * k1 + float(down[x]) * k1 + float(down[x + 1]) * k1;
        ss += float(mid[x - 1]) * k1 + float(mid[x]) * k5 + float(mid[x + 1]) * k1;
        ss += float(up[x - 1]) * k1 + float(up[x]) * k1 + float(up[x + 1]) * k1;
        o[y * w + x] = ss <= 0.0f ? 0 : ss >= 255.0f ? 255 : static_cast<uint8_t>(ss);
      }
    }
  }
  return out;
}

// std::floor for the finite, image-sized values the geometric ops produce; without SSE4.1 (the
// x86-64 baseline) std::floor is a libm call, which dominated Affine's time.
inline double Floor(double v) {
  const double t = static_cast<double>(static_cast<int64_t>(v));
  return t > v ? t - 1.0 : t;
}

inline int64_t Clamp(int64_t v, int64_t n) { return v < 0 ? 0 : v < n ? v : n - 1; }

// Geometry.c's BICUBIC macro: the a = -1 cubic through v1..v4 at d in [0, 1).
inline double Cubic(double v1, double v2, double v3, double v4, double d) {
  const double p1 = v2;
  const double p2 = -v1 + v3;
  const double p3 = 2 * (v1 - v2) + v3 - v4;
  const double p4 = -v1 + v2 - v3 + v4;
  return p1 + d * (p2 + d * (p3 + d * p4));
}

// The exact transposes Pillow uses for rotations by multiples of 90 degrees.
Uint8Image Transpose90s(const Uint8Image& image, int quarter_turns_ccw) {
  const int64_t h = image.height, w = image.width;
  const int64_t oh = quarter_turns_ccw == 2 ? h : w, ow = quarter_turns_ccw == 2 ? w : h;
  Uint8Image out(image.channels, oh, ow);
  for (int64_t c = 0; c < image.channels; ++c) {
    const uint8_t* in = image.plane(c);
    uint8_t* o = out.plane(c);
    for (int64_t y = 0; y < oh; ++y) {
      for (int64_t x = 0; x < ow; ++x) {
        int64_t sx, sy;
        if (quarter_turns_ccw == 1) {
          sx = w - 1 - y, sy = x;
        } else if (quarter_turns_ccw == 2) {
          sx = w - 1 - x, sy = h - 1 - y;
        } else {
          sx = y, sy = h - 1 - x;
        }
        o[y * ow + x] = in[sy * w + sx];
      }
    }
  }
  return out;
}

double RoundTo15Digits(double v) { return std::round(v * 1e15) / 1e15; }

}  // namespace

Uint8Image Invert(const Uint8Image& image) {
  Lut lut;
  for (int i = 0; i < 256; ++i) lut[i] = static_cast<uint8_t>(255 - i);
  return ApplyLut(image, lut);
}

Uint8Image Solarize(const Uint8Image& image, int threshold) {
  Lut lut;
  for (int i = 0; i < 256; ++i) lut[i] = static_cast<uint8_t>(i < threshold ? i : 255 - i);
  return ApplyLut(image, lut);
}

Uint8Image SolarizeAdd(const Uint8Image& image, int add, int threshold) {
  Lut lut;
  for (int i = 0; i < 256; ++i) {
    lut[i] = static_cast<uint8_t>(i < threshold ? std::min(255, std::max(0, i + add)) : i);
  }
  return ApplyLut(image, lut);
}

Uint8Image Posterize(const Uint8Image& image, int bits) {
  CHECK_GE(bits, 0);
  CHECK_LE(bits, 8);
  if (bits == 8) return image;
  const int mask = ~((1 << (8 - bits)) - 1);
  Lut lut;
  for (int i = 0; i < 256; ++i) lut[i] = static_cast<uint8_t>(i & mask);
  return ApplyLut(image, lut);
}

Uint8Image AutoContrast(const Uint8Image& image) {
  std::vector<Lut> luts;
  for (int64_t c = 0; c < image.channels; ++c) {
    const std::array<int64_t, 256> h = Histogram(image.plane(c), image.plane_size());
    int lo = 0, hi = 255;
    while (lo < 256 && h[lo] == 0) ++lo;
    while (hi >= 0 && h[hi] == 0) --hi;
    if (hi <= lo) {
      luts.push_back(IdentityLut());
      continue;
    }
    const double scale = 255.0 / (hi - lo);
    const double offset = -lo * scale;
    Lut lut;
    for (int i = 0; i < 256; ++i) {
      const int64_t v = static_cast<int64_t>(i * scale + offset);  // int(): toward zero
      lut[i] = static_cast<uint8_t>(std::min<int64_t>(255, std::max<int64_t>(0, v)));
    }
    luts.push_back(lut);
  }
  return ApplyLuts(image, luts);
}

Uint8Image Equalize(const Uint8Image& image) {
  std::vector<Lut> luts;
  for (int64_t c = 0; c < image.channels; ++c) {
    const std::array<int64_t, 256> h = Histogram(image.plane(c), image.plane_size());
    int64_t total = 0, last = 0, nonzero = 0;
    for (int i = 0; i < 256; ++i) {
      if (h[i] == 0) continue;
      total += h[i];
      last = h[i];
      ++nonzero;
    }
    const int64_t step = nonzero <= 1 ? 0 : (total - last) / 255;
    if (step == 0) {
      luts.push_back(IdentityLut());
      continue;
    }
    Lut lut;
    int64_t n = step / 2;
    for (int i = 0; i < 256; ++i) {
      lut[i] = static_cast<uint8_t>(std::min<int64_t>(255, n / step));
      n += h[i];
    }
    luts.push_back(lut);
  }
  return ApplyLuts(image, luts);
}

Uint8Image Enhance(const Uint8Image& image, Enhancement kind, double factor) {
  switch (kind) {
    case Enhancement::kColor: {
      if (image.channels == 1) return Blend(image, image, factor);
      const Uint8Image grey = Grey(image);
      Uint8Image degenerate(image.channels, image.height, image.width);
      for (int64_t c = 0; c < image.channels; ++c) {
        std::copy(grey.data.begin(), grey.data.end(), degenerate.plane(c));
      }
      return Blend(degenerate, image, factor);
    }
    case Enhancement::kContrast: {
      const Uint8Image grey = Grey(image);
      const std::array<int64_t, 256> h = Histogram(grey.data.data(), grey.plane_size());
      double sum = 0;
      for (int i = 0; i < 256; ++i) sum += static_cast<double>(i) * h[i];
      const int mean = static_cast<int>(sum / grey.plane_size() + 0.5);
      return Blend(Uint8Image(image.channels, image.height, image.width, uint8_t(mean)), image,
                   factor);
    }
    case Enhancement::kBrightness:
      return Blend(Uint8Image(image.channels, image.height, image.width, 0), image, factor);
    case Enhancement::kSharpness:
      return Blend(Smooth(image), image, factor);
  }
  LOG(FATAL) << "unknown enhancement";
}

Uint8Image Affine(const Uint8Image& image, const std::array<double, 6>& m, Resample resample,
                  const std::vector<uint8_t>& fill) {
  CHECK_EQ(static_cast<int64_t>(fill.size()), image.channels) << "one fill value per channel";
  CHECK(resample != Resample::kBox) << "Pillow's transform has no BOX filter";
  const int64_t h = image.height, w = image.width;
  Uint8Image out(image.channels, h, w);
  for (int64_t c = 0; c < image.channels; ++c) {
    std::fill(out.plane(c), out.plane(c) + out.plane_size(), fill[c]);
  }
  const int64_t plane = image.plane_size();
  for (int64_t y = 0; y < h; ++y) {
    for (int64_t x = 0; x < w; ++x) {
      double xin = m[0] * (x + 0.5) + m[1] * (y + 0.5) + m[2];
      double yin = m[3] * (x + 0.5) + m[4] * (y + 0.5) + m[5];
      if (xin < 0.0 || xin >= w || yin < 0.0 || yin >= h) continue;  // keeps the fill
      const int64_t o = y * w + x;
      xin -= 0.5;
      yin -= 0.5;
      const double fx = Floor(xin), fy = Floor(yin);
      const double dx = xin - fx, dy = yin - fy;
      const int64_t ix = static_cast<int64_t>(fx), iy = static_cast<int64_t>(fy);
      if (resample == Resample::kBilinear) {
        const int64_t x0 = Clamp(ix, w), x1 = Clamp(ix + 1, w);
        const int64_t y0 = Clamp(iy, h), y1 = Clamp(iy + 1, h);
        for (int64_t c = 0; c < image.channels; ++c) {
          const uint8_t* p = image.plane(c);
          const double r0 = p[y0 * w + x0] + (double(p[y0 * w + x1]) - p[y0 * w + x0]) * dx;
          const double r1 = p[y1 * w + x0] + (double(p[y1 * w + x1]) - p[y1 * w + x0]) * dx;
          out.data[c * plane + o] = static_cast<uint8_t>(r0 + (r1 - r0) * dy);
        }
        continue;
      }
      // Offsets of the 4 x 4 neighbourhood, clamped only near the border.
      int64_t xs[4], rows_at[4];
      if (ix >= 1 && ix + 2 < w && iy >= 1 && iy + 2 < h) {
        for (int k = 0; k < 4; ++k) {
          xs[k] = ix - 1 + k;
          rows_at[k] = (iy - 1 + k) * w;
        }
      } else {
        for (int k = 0; k < 4; ++k) {
          xs[k] = Clamp(ix - 1 + k, w);
          rows_at[k] = Clamp(iy - 1 + k, h) * w;
        }
      }
      const uint8_t* p = image.data.data();
      uint8_t* o_ptr = out.data.data() + o;
      // Cubic(v1, v2, v3, v4, 0) is v2 exactly in IEEE arithmetic (every d * term is a zero), so
      // a zero fraction lets us skip the cubics that cannot matter, with identical results. Four
      // of RandAugment's five geometric ops have one: ShearX and TranslateX sample whole rows
      // (dy = 0), ShearY and TranslateY whole columns (dx = 0).
      if (dy == 0.0) {
        for (int64_t c = 0; c < image.channels; ++c, p += plane, o_ptr += plane) {
          const uint8_t* row = p + rows_at[1];
          const double v =
              dx == 0.0 ? row[xs[1]] : Cubic(row[xs[0]], row[xs[1]], row[xs[2]], row[xs[3]], dx);
          *o_ptr = v <= 0.0 ? 0 : v >= 255.0 ? 255 : static_cast<uint8_t>(v);
        }
        continue;
      }
      if (dx == 0.0) {
        for (int64_t c = 0; c < image.channels; ++c, p += plane, o_ptr += plane) {
          const double v = Cubic(p[rows_at[0] + xs[1]], p[rows_at[1] + xs[1]],
                                 p[rows_at[2] + xs[1]], p[rows_at[3] + xs[1]], dy);
          *o_ptr = v <= 0.0 ? 0 : v >= 255.0 ? 255 : static_cast<uint8_t>(v);
        }
        continue;
      }
      for (int64_t c = 0; c < image.channels; ++c, p += plane, o_ptr += plane) {
        double rows[4];
        for (int k = 0; k < 4; ++k) {
          const uint8_t* row = p + rows_at[k];
          rows[k] = Cubic(row[xs[0]], row[xs[1]], row[xs[2]], row[xs[3]], dx);
        }
        const double v = Cubic(rows[0], rows[1], rows[2], rows[3], dy);
        *o_ptr = v <= 0.0 ? 0 : v >= 255.0 ? 255 : static_cast<uint8_t>(v);
      }
    }
  }
  return out;
}

Uint8Image Rotate(const Uint8Image& image, double degrees, Resample resample,
                  const std::vector<uint8_t>& fill) {
  double angle = std::fmod(degrees, 360.0);  // Python's %: result in [0, 360)
  if (angle < 0) angle += 360.0;
  if (angle == 0.0) return image;
  if (angle == 180.0) return Transpose90s(image, 2);
  if ((angle == 90.0 || angle == 270.0) && image.width == image.height) {
    return Transpose90s(image, angle == 90.0 ? 1 : 3);
  }
  const double cx = image.width / 2.0, cy = image.height / 2.0;
  const double phi = -angle * M_PI / 180.0;
  std::array<double, 6> m = {RoundTo15Digits(std::cos(phi)), RoundTo15Digits(std::sin(phi)), 0.0,
                             RoundTo15Digits(-std::sin(phi)), RoundTo15Digits(std::cos(phi)), 0.0};
  m[2] = m[0] * -cx + m[1] * -cy + cx;
  m[5] = m[3] * -cx + m[4] * -cy + cy;
  return Affine(image, m, resample, fill);
}

}  // namespace robustness
