// Test-only reader of testdata/pil_fixtures.bin, Pillow's own results written at build time by
// Debian's python3-pil (testdata/make_pil_fixtures.py documents the format and every case).
#ifndef ROBUSTNESS_AUGMENTATION_PIL_FIXTURES_H_
#define ROBUSTNESS_AUGMENTATION_PIL_FIXTURES_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "robustness/augmentation/uint8_image.h"

namespace robustness {

struct PilFixtures {
  // "input <name>" records, by name (photo, grey, grey_rect, rgb).
  std::map<std::string, Uint8Image> inputs;
  // Every other record: its "key=value" pairs and Pillow's output.
  std::vector<std::pair<std::map<std::string, std::string>, Uint8Image>> cases;
};

// Reads the fixture file once (relative to the test's runfiles root) and keeps it; CHECK-fails on
// a missing or truncated file.
const PilFixtures& LoadPilFixtures();

// Largest |a - b| over all values; 256 when the shapes differ (also reported as test failures).
int MaxAbsDiff(const Uint8Image& a, const Uint8Image& b);

}  // namespace robustness

#endif  // ROBUSTNESS_AUGMENTATION_PIL_FIXTURES_H_
