// Perturbation radii written in configs (proto::Radius, robustness/proto/common.proto) turned into
// pixel units and result-table labels. PAPER.md 3.7-3.8: eps = 4/255 (Table 2, Table 1) and
// 0.001 (Table 1), both on images scaled to [0, 1].
#ifndef ROBUSTNESS_ATTACKS_RADIUS_H_
#define ROBUSTNESS_ATTACKS_RADIUS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "robustness/proto/common.pb.h"

namespace robustness {

// The radius in [0, 1] pixel units: `pixels`, or `over_255` / 255.
// Precondition: ValidateRadius(radius, ...) is OK (CHECK-fails when no value is set).
double RadiusToPixels(const proto::Radius& radius);

// A short label as written in the config: over_255 {4} -> "4/255", over_255 {0.5} -> "0.5/255",
// pixels {0.001} -> "0.001" (%g). "unset" when no value is set.
std::string RadiusLabel(const proto::Radius& radius);

// OK when 0 < pixels <= 1 (finite); otherwise InvalidArgument
//   "<field>: must be in (0, 1] pixel units, got <pixels>" (%g).
// For radii that arrive as a plain double, e.g. the epsilon handed to CreateAttack.
absl::Status ValidatePixelRadius(double pixels, absl::string_view field);

// OK when a value is set and 0 < RadiusToPixels(radius) <= 1. Otherwise InvalidArgument naming
// `field` (the config path, e.g. "evaluation.epsilons[0]") and the value as written:
//   "attack.pgd.step_absolute: must be in (0, 1] pixel units, got 300/255"
//   "attack.pgd.step_absolute: must be set (pixels or over_255)"
// A radius > 1 is almost always an eps written on the 0-255 scale in `pixels`.
absl::Status ValidateRadius(const proto::Radius& radius, absl::string_view field);

}  // namespace robustness

#endif  // ROBUSTNESS_ATTACKS_RADIUS_H_
