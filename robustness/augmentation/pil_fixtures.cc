#include "robustness/augmentation/pil_fixtures.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <fstream>

#include "absl/strings/str_split.h"
#include "glog/logging.h"
#include "gtest/gtest.h"

namespace robustness {
namespace {

uint32_t ReadU32(std::ifstream& in) {
  unsigned char b[4];
  in.read(reinterpret_cast<char*>(b), 4);
  return b[0] | (b[1] << 8) | (b[2] << 16) | (uint32_t(b[3]) << 24);
}

}  // namespace

const PilFixtures& LoadPilFixtures() {
  static const PilFixtures* fixtures = [] {
    auto* f = new PilFixtures;
    std::ifstream in("robustness/augmentation/testdata/pil_fixtures.bin", std::ios::binary);
    CHECK(in) << "missing fixture robustness/augmentation/testdata/pil_fixtures.bin";
    std::string magic(8, '\0');
    in.read(magic.data(), 8);
    CHECK_EQ(magic, "PILFIX1\n");
    while (in.peek() != EOF) {
      std::string name(ReadU32(in), '\0');
      in.read(name.data(), name.size());
      const uint32_t c = ReadU32(in), h = ReadU32(in), w = ReadU32(in);
      Uint8Image image(c, h, w);
      in.read(reinterpret_cast<char*>(image.data.data()), image.data.size());
      CHECK(in) << "truncated fixture at " << name;
      if (name.rfind("input ", 0) == 0) {
        f->inputs[name.substr(6)] = std::move(image);
        continue;
      }
      std::map<std::string, std::string> kv;
      for (absl::string_view part : absl::StrSplit(name, ' ')) {
        const std::pair<std::string, std::string> p = absl::StrSplit(part, '=');
        kv[p.first] = p.second;
      }
      f->cases.emplace_back(std::move(kv), std::move(image));
    }
    return f;
  }();
  return *fixtures;
}

int MaxAbsDiff(const Uint8Image& a, const Uint8Image& b) {
  EXPECT_EQ(a.channels, b.channels);
  EXPECT_EQ(a.height, b.height);
  EXPECT_EQ(a.width, b.width);
  if (a.channels != b.channels || a.height != b.height || a.width != b.width) return 256;
  int worst = 0;
  for (size_t i = 0; i < a.data.size(); ++i) {
    worst = std::max(worst, std::abs(int{a.data[i]} - int{b.data[i]}));
  }
  return worst;
}

}  // namespace robustness
