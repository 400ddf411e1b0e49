// The shared primitives of the corruptions, each with the semantics of the library call the
// references make (ood_suite.md 1.1). All work on planar float64 or float32 images (planes.h).
#ifndef ROBUSTNESS_CORRUPTIONS_INTERNAL_FILTERS_H_
#define ROBUSTNESS_CORRUPTIONS_INTERNAL_FILTERS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "robustness/augmentation/uint8_image.h"
#include "robustness/corruptions/internal/planes.h"
#include "robustness/corruptions/internal/random.h"

namespace robustness::corruptions_internal {

// Turns OpenCV's own thread pool off for the whole process (cv::setNumThreads(0)), once: the
// corruptions parallelise over images (Corruptor::ApplyBatch, tools/corrupt), and OpenCV's pool
// only added spinning threads to a 32 px spatter (2x its time on one core). Results do not
// depend on OpenCV's thread count.
void UseSerialOpenCv();

// SciPy 'nearest' (replicate), 'reflect' (half-sample).
enum class Border { kNearest, kReflect };

// out[i] = sum_t weights[t] rows[t][i] for i < n, terms added in t order: a correlation whose
// taps are shifted rows. 32 outputs at a time stay in registers across all taps. Compiled for
// AVX-512, AVX2 and the baseline and picked at load time (GCC target_clones); no FMA
// contraction (-ffp-contract=off in BUILD), so every CPU computes the same bits.
void SumOfShiftedRows(const double* const* rows, const double* weights, int taps, double* out,
                      int64_t n);
// The same in float32 (AVX-512, AVX2 and baseline clones; the same bits on each).
void SumOfShiftedRows(const float* const* rows, const float* weights, int taps, float* out,
                      int64_t n);

// SciPy correlate1d's form for a symmetric kernel (weights[radius - k] == weights[radius + k]),
// its order of operations: out[i] = rows[radius][i] w[radius], then += (rows[j][i] +
// rows[2 radius - j][i]) w[j] for j = 0 .. radius - 1. float32, the same bits on every clone.
void SymmetricSumOfShiftedRows(const float* const* rows, const float* weights, int radius,
                               float* out, int64_t n);

// skimage.filters.gaussian / scipy.ndimage.gaussian_filter on one H x W plane: separable
// correlation, rows axis first; radius int(truncate * sigma + 0.5); sigma 0 on an axis leaves it.
// float64, taps added in tap order (SumOfShiftedRows; SciPy adds a symmetric kernel's pairs
// first, so the last bits may differ): the reference-precision form the tests compare with.
void GaussianFilter(const double* in, int64_t height, int64_t width, double sigma_y,
                    double sigma_x, double truncate, Border border, double* out);
// The float32 form (weights computed in float64, rounded once; sums in float32 in SciPy's
// symmetric order, SymmetricSumOfShiftedRows): for the random
// corruptions' fields and layers and the blurs whose outputs are truncated to uint8 anyway
// (round-off ~1e-4 of a grey level, covered by TruncateUnit(PlanesF)'s guard).
void GaussianFilter(const float* in, int64_t height, int64_t width, double sigma_y,
                    double sigma_x, double truncate, Border border, float* out);
// Every plane of `x` with the same sigma (skimage's channel_axis=-1), truncate 4, in place.
void GaussianFilterPlanes(Planes* x, double sigma, Border border);
void GaussianFilterPlanes(PlanesF* x, double sigma, Border border);

// imagecorruptions' re-implementation of ImageMagick's MotionBlurImage (ood_suite.md 1.1): taps
// i = 0 .. 2 radius at offsets (ceil(i sin t - 1/2), ceil(i cos t - 1/2)), one-sided Gaussian
// weights, replicated edges, stopping (without renormalising) at the first tap that leaves the
// image. Values keep their units. float32 sums (the weights rounded once): the blur is of a
// random angle, and the round-off (~1e-4 of a grey level) is far below its spread.
PlanesF MotionBlur(const PlanesF& x, int radius, double sigma, double angle_degrees);

// clipped_zoom (ood_suite.md 1.1): the centred ceil(H / z) x ceil(W / z) crop, zoomed by SciPy's
// corner-aligned order-1 `zoom` to round(ch z); returns its top-left min(out, max_h) x
// min(out, max_w) part. `float32` rounds each value to float as SciPy does for float32 input.
Planes ClippedZoom(const Planes& x, double zoom, int64_t max_height, int64_t max_width,
                   bool float32);

// The diamond-square plasma fractal of fog, P x P (P a power of two), normalised to [0, 1], with
// imagecorruptions' draw order (the P^2 - 1 uniforms drawn first, Random::FillUniformLanes);
// float32 values as the reference's map.
std::vector<float> PlasmaFractal(int64_t map_size, double wibble_decay, Random* random);

// skimage rgb2hsv / hsv2rgb on one pixel, all in [0, 1].
void RgbToHsv(double r, double g, double b, double* h, double* s, double* v);
void HsvToRgb(double h, double s, double v, double* r, double* g, double* b);

// Every pixel of a 3-channel image through RGB -> HSV, `fn(h, s, v)` (in place), HSV -> RGB.
template <typename Fn>
void MapHsv(Planes* x, Fn fn) {
  const int64_t n = x->plane_size();
  double* r = x->plane(0);
  double* g = x->plane(1);
  double* b = x->plane(2);
  for (int64_t i = 0; i < n; ++i) {
    double h, s, v;
    RgbToHsv(r[i], g[i], b[i], &h, &s, &v);
    fn(&h, &s, &v);
    HsvToRgb(h, s, v, &r[i], &g[i], &b[i]);
  }
}

// Pillow's Image.resize(..., NEAREST): output pixel j takes input floor((j + 1/2) in / out).
Uint8Image PilNearestResize(const Uint8Image& image, int64_t height, int64_t width);

}  // namespace robustness::corruptions_internal

#endif  // ROBUSTNESS_CORRUPTIONS_INTERNAL_FILTERS_H_
