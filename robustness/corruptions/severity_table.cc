#include "robustness/corruptions/severity_table.h"

#include <cmath>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace robustness {
namespace {

using P = std::vector<double>;
using Rows = std::vector<P>;  // five rows, severity 1..5

// Zoom blur's lists are aranges (start 1); a row here is (stop, step).
std::vector<double> ZoomRow(double stop, double step) { return NumpyArange(1.0, stop, step); }

// The IN-C constants (imagecorruptions shares them except elastic; Tiny shares some).
Rows ImagenetC(proto::Corruption c) {
  switch (c) {
    case proto::GAUSSIAN_NOISE: return {{.08}, {.12}, {.18}, {.26}, {.38}};
    case proto::SHOT_NOISE: return {{60}, {25}, {12}, {5}, {3}};
    case proto::IMPULSE_NOISE: return {{.03}, {.06}, {.09}, {.17}, {.27}};
    case proto::SPECKLE_NOISE: return {{.15}, {.2}, {.35}, {.45}, {.6}};
    case proto::GAUSSIAN_BLUR: return {{1}, {2}, {3}, {4}, {6}};
    case proto::GLASS_BLUR:
      return {{.7, 1, 2}, {.9, 2, 1}, {1, 2, 3}, {1.1, 3, 2}, {1.5, 4, 2}};
    case proto::DEFOCUS_BLUR: return {{3, .1}, {4, .5}, {6, .5}, {8, .5}, {10, .5}};
    case proto::MOTION_BLUR: return {{10, 3}, {15, 5}, {15, 8}, {15, 12}, {20, 15}};
    case proto::ZOOM_BLUR:
      return {ZoomRow(1.11, .01), ZoomRow(1.16, .01), ZoomRow(1.21, .02), ZoomRow(1.26, .02),
              ZoomRow(1.31, .03)};
    case proto::SNOW:
      return {{.1, .3, 3, .5, 10, 4, .8},
              {.2, .3, 2, .5, 12, 4, .7},
              {.55, .3, 4, .9, 12, 8, .7},
              {.55, .3, 4.5, .85, 12, 8, .65},
              {.55, .3, 2.5, .85, 12, 12, .55}};
    case proto::FROST: return {{1, .4}, {.8, .6}, {.7, .7}, {.65, .7}, {.6, .75}};
    case proto::FOG: return {{1.5, 2}, {2, 2}, {2.5, 1.7}, {2.5, 1.5}, {3, 1.4}};
    case proto::BRIGHTNESS: return {{.1}, {.2}, {.3}, {.4}, {.5}};
    case proto::CONTRAST: return {{.4}, {.3}, {.2}, {.1}, {.05}};
    case proto::ELASTIC_TRANSFORM:
      return {{488, 170.8, 24.4}, {488, 19.52, 48.8}, {12.2, 2.44, 4.88}, {17.08, 2.44, 4.88},
              {29.28, 2.44, 4.88}};
    case proto::PIXELATE: return {{.6}, {.5}, {.4}, {.3}, {.25}};
    case proto::JPEG_COMPRESSION: return {{25}, {18}, {15}, {10}, {7}};
    case proto::SPATTER:
      return {{.65, .3, 4, .69, .6, 0},
              {.65, .3, 3, .68, .6, 0},
              {.65, .3, 2, .68, .5, 0},
              {.65, .3, 1, .65, 1.5, 1},
              {.67, .4, 1, .65, 1.5, 1}};
    case proto::SATURATE: return {{.3, 0}, {.1, 0}, {2, 0}, {5, .1}, {20, .2}};
    default: return {};
  }
}

Rows Cifar10C(proto::Corruption c) {
  switch (c) {
    case proto::GAUSSIAN_NOISE: return {{.04}, {.06}, {.08}, {.09}, {.10}};
    case proto::SHOT_NOISE: return {{500}, {250}, {100}, {75}, {50}};
    case proto::IMPULSE_NOISE: return {{.01}, {.02}, {.03}, {.05}, {.07}};
    case proto::SPECKLE_NOISE: return {{.06}, {.1}, {.12}, {.16}, {.2}};
    case proto::GAUSSIAN_BLUR: return {{.4}, {.6}, {.7}, {.8}, {1}};
    case proto::GLASS_BLUR:
      return {{.05, 1, 1}, {.25, 1, 1}, {.4, 1, 1}, {.25, 1, 2}, {.4, 1, 2}};
    case proto::DEFOCUS_BLUR: return {{.3, .4}, {.4, .5}, {.5, .6}, {1, .2}, {1.5, .1}};
    case proto::MOTION_BLUR: return {{6, 1}, {6, 1.5}, {6, 2}, {8, 2}, {9, 2.5}};
    case proto::ZOOM_BLUR:
      return {ZoomRow(1.06, .01), ZoomRow(1.11, .01), ZoomRow(1.16, .01), ZoomRow(1.21, .01),
              ZoomRow(1.26, .01)};
    case proto::SNOW:
      return {{.1, .2, 1, .6, 8, 3, .95},
              {.1, .2, 1, .5, 10, 4, .9},
              {.15, .3, 1.75, .55, 10, 4, .9},
              {.25, .3, 2.25, .6, 12, 6, .85},
              {.3, .3, 1.25, .65, 14, 12, .8}};
    case proto::FROST: return {{1, .2}, {1, .3}, {.9, .4}, {.85, .4}, {.75, .45}};
    case proto::FOG: return {{.2, 3}, {.5, 3}, {.75, 2.5}, {1, 2}, {1.5, 1.75}};
    case proto::BRIGHTNESS: return {{.05}, {.1}, {.15}, {.2}, {.3}};
    case proto::CONTRAST: return {{.75}, {.5}, {.4}, {.3}, {.15}};
    case proto::ELASTIC_TRANSFORM:
      return {{0, 0, 2.56}, {1.6, 6.4, 2.24}, {2.56, 1.92, 1.92}, {3.2, 1.28, 1.6},
              {3.2, .96, .96}};
    case proto::PIXELATE: return {{.95}, {.9}, {.85}, {.75}, {.65}};
    case proto::JPEG_COMPRESSION: return {{80}, {65}, {58}, {50}, {40}};
    case proto::SPATTER:
      return {{.62, .1, .7, .7, .5, 0},
              {.65, .1, .8, .7, .5, 0},
              {.65, .3, 1, .69, .5, 0},
              {.65, .1, .7, .69, .6, 1},
              {.65, .1, .5, .68, .6, 1}};
    case proto::SATURATE: return {{.3, 0}, {.1, 0}, {1.5, 0}, {2, .1}, {2.5, .2}};
    default: return {};
  }
}

Rows TinyImagenetC(proto::Corruption c) {
  switch (c) {
    case proto::GAUSSIAN_NOISE: return {{.04}, {.08}, {.12}, {.15}, {.18}};
    case proto::SHOT_NOISE: return {{250}, {100}, {50}, {30}, {15}};
    case proto::IMPULSE_NOISE: return {{.01}, {.02}, {.05}, {.08}, {.14}};
    case proto::SPECKLE_NOISE: return {{.15}, {.2}, {.25}, {.3}, {.35}};
    case proto::GAUSSIAN_BLUR: return {{.5}, {.75}, {1}, {1.25}, {1.5}};
    case proto::GLASS_BLUR:
      return {{.1, 1, 1}, {.5, 1, 1}, {.6, 1, 2}, {.7, 2, 1}, {.9, 2, 2}};
    case proto::DEFOCUS_BLUR: return {{.5, .6}, {1, .1}, {1.5, .1}, {2.5, .01}, {3, .1}};
    case proto::MOTION_BLUR: return {{10, 1}, {10, 1.5}, {10, 2}, {10, 2.5}, {12, 3}};
    case proto::SNOW: {
      Rows rows = Cifar10C(c);
      const double blend[] = {.8, .8, .7, .65, .6};
      for (int s = 0; s < 5; ++s) rows[s][6] = blend[s];
      return rows;
    }
    case proto::FROST: return {{1, .3}, {.9, .4}, {.8, .45}, {.75, .5}, {.7, .55}};
    case proto::FOG: return {{.4, 3}, {.7, 3}, {1, 2.5}, {1.5, 2}, {2, 1.75}};
    case proto::ELASTIC_TRANSFORM:
      return {{0, 0, 5.12}, {3.2, 19.2, 3.84}, {6.4, 5.12, 3.84}, {6.4, 1.92, 1.92},
              {10.24, 1.92, 1.28}};
    case proto::PIXELATE: return {{.9}, {.8}, {.7}, {.6}, {.5}};
    case proto::JPEG_COMPRESSION: return {{65}, {58}, {50}, {40}, {25}};
    case proto::SPATTER: {
      Rows rows = Cifar10C(c);
      for (P& row : rows) row[4] = .6;
      rows[3][3] = .68;
      rows[4][3] = .67;
      return rows;
    }
    case proto::SATURATE: return {{.3, 0}, {.1, 0}, {2, 0}, {5, .1}, {30, .2}};
    case proto::ZOOM_BLUR: return Cifar10C(c);
    default: return ImagenetC(c);  // brightness, contrast: the IN-C values
  }
}

}  // namespace

std::vector<double> NumpyArange(double start, double stop, double step) {
  const int64_t n = static_cast<int64_t>(std::ceil((stop - start) / step));
  // NumPy fills start + i * delta with delta = (start + step) - start, not step: the two differ
  // in the last bit (arange(1, 1.31, .03)[10] is 1.3000000000000003), and a zoom factor's last
  // bit decides round(ch z), the zoomed size, at 32 px.
  const double delta = (start + step) - start;
  std::vector<double> v;
  for (int64_t i = 0; i < n; ++i) v.push_back(start + i * delta);
  return v;
}

const char* SeverityTableName(proto::SeverityTable table) {
  switch (table) {
    case proto::IMAGENET_C: return "imagenet_c";
    case proto::IMAGECORRUPTIONS: return "imagecorruptions";
    case proto::CIFAR10_C: return "cifar10_c";
    case proto::TINY_IMAGENET_C: return "tiny_imagenet_c";
    default: return "unspecified";
  }
}

absl::StatusOr<std::vector<double>> SeverityParameters(proto::SeverityTable table,
                                                       proto::Corruption corruption,
                                                       int severity) {
  if (severity < 1 || severity > 5) {
    return absl::InvalidArgumentError(
        absl::StrCat("severity must be in 1..5, got ", severity));
  }
  if (corruption < proto::GAUSSIAN_NOISE || corruption > proto::SATURATE) {
    return absl::InvalidArgumentError(
        absl::StrCat("corruption is unspecified or unknown: ", static_cast<int>(corruption)));
  }
  Rows rows;
  switch (table) {
    case proto::IMAGENET_C: rows = ImagenetC(corruption); break;
    case proto::IMAGECORRUPTIONS:
      if (corruption == proto::ELASTIC_TRANSFORM) {
        // 250 x {0.05, 0.065, 0.085, 0.1, 0.12}; sigma and the field range scale with the size.
        rows = {{250 * 0.05}, {250 * 0.065}, {250 * 0.085}, {250 * 0.1}, {250 * 0.12}};
      } else {
        rows = ImagenetC(corruption);
      }
      break;
    case proto::CIFAR10_C: rows = Cifar10C(corruption); break;
    case proto::TINY_IMAGENET_C: rows = TinyImagenetC(corruption); break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("severity_table is unspecified or unknown: ", static_cast<int>(table)));
  }
  return rows[severity - 1];
}

}  // namespace robustness
