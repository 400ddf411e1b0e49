// The five severity parameter sets of each corruption, for each reference (ood_suite.md 1.3,
// which cites make_imagenet_c.py, make_cifar_c.py, make_tinyimagenet_c.py @8190fe3 and
// imagecorruptions/corruptions.py @c959e65 for every constant).
//
// Parameters per corruption, in this order:
//   gaussian_noise sigma | shot_noise c | impulse_noise amount | speckle_noise sigma |
//   gaussian_blur sigma | glass_blur (sigma, delta, iterations) | defocus_blur (radius, alias) |
//   motion_blur (radius, sigma) | zoom_blur (the zoom factors, 1.00 first) |
//   snow (mu, sigma, zoom, threshold, radius, blur sigma, blend) | frost (image weight, frost
//   weight) | fog (strength, wibble decay) | brightness dV | contrast c |
//   elastic_transform: imagecorruptions (alpha), Hendrycks tables (alpha, sigma, affine range) |
//   pixelate c | jpeg_compression quality | spatter (mu, sigma, blur sigma, threshold, k, mode) |
//   saturate (scale, add).
#ifndef ROBUSTNESS_CORRUPTIONS_SEVERITY_TABLE_H_
#define ROBUSTNESS_CORRUPTIONS_SEVERITY_TABLE_H_

#include <vector>

#include "absl/status/statusor.h"
#include "robustness/proto/corruption.pb.h"

namespace robustness {

// The parameters of `corruption` at `severity` (1..5) in `table`. Severity outside 1..5 or an
// unspecified table/corruption is InvalidArgument naming the value.
absl::StatusOr<std::vector<double>> SeverityParameters(proto::SeverityTable table,
                                                       proto::Corruption corruption,
                                                       int severity);

// NumPy's arange(start, stop, step) in double, bit for bit: ceil((stop - start) / step) values
// (so arange(1, 1.11, .01) has 12, ood_suite.md 1.3), value i = start + i ((start + step) - start).
std::vector<double> NumpyArange(double start, double stop, double step);

// "imagenet_c", "imagecorruptions", "cifar10_c", "tiny_imagenet_c".
const char* SeverityTableName(proto::SeverityTable table);

}  // namespace robustness

#endif  // ROBUSTNESS_CORRUPTIONS_SEVERITY_TABLE_H_
