#include "robustness/corruptions/internal/opencv_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "glog/logging.h"
#include "robustness/corruptions/internal/planes.h"

namespace robustness::corruptions_internal {
namespace {

constexpr uint32_t kStraight = 65536, kDiagonal = 91750, kKnight = 143976;
// OpenCV's DIST_MAX: the value of a pixel no zero pixel reaches, and of the border.
constexpr uint32_t kUnreached = static_cast<uint32_t>(kChamferUnreached) << 16;

// A copy of a plane with a one-pixel reflect-101 frame: row y, column x of the image at
// (y + 1) * (width + 2) + x + 1.
template <typename T>
std::vector<T> Framed(const T* src, int64_t height, int64_t width) {
  const int64_t fw = width + 2;
  std::vector<T> out(static_cast<size_t>((height + 2) * fw));
  for (int64_t y = -1; y <= height; ++y) {
    const T* row = src + Reflect101(y, height) * width;
    T* dst = out.data() + (y + 1) * fw;
    std::memcpy(dst + 1, row, static_cast<size_t>(width) * sizeof(T));
    dst[0] = row[Reflect101(-1, width)];
    dst[width + 1] = row[Reflect101(width, width)];
  }
  return out;
}

}  // namespace

void ChamferDistance5x5(const uint8_t* src, int64_t height, int64_t width, float* dst) {
  CHECK_GT(height, 0);
  CHECK_GT(width, 0);
  // Two frame rows and columns of kUnreached on every side (paths never leave the image).
  const int64_t fw = width + 4;
  std::vector<uint32_t> t(static_cast<size_t>((height + 4) * fw), kUnreached);
  std::vector<uint32_t> best(static_cast<size_t>(width));
  auto row = [&](int64_t y) { return t.data() + (y + 2) * fw + 2; };
  // Forward: the five neighbours of the row above and two of the row above that, final
  // already, then the left neighbour, serially.
  for (int64_t y = 0; y < height; ++y) {
    const uint32_t* up2 = row(y - 2);
    const uint32_t* up1 = row(y - 1);
    for (int64_t x = 0; x < width; ++x) {
      uint32_t m = std::min(up2[x - 1], up2[x + 1]) + kKnight;
      m = std::min(m, std::min(up1[x - 2], up1[x + 2]) + kKnight);
      m = std::min(m, std::min(up1[x - 1], up1[x + 1]) + kDiagonal);
      best[x] = std::min(m, up1[x] + kStraight);
    }
    const uint8_t* s = src + y * width;
    uint32_t* cur = row(y);
    uint32_t left = kUnreached;
    for (int64_t x = 0; x < width; ++x) {
      left = s[x] == 0 ? 0 : std::min(best[x], left + kStraight);
      cur[x] = left;
    }
  }
  // Backward: the mirror image, keeping the forward value where it is smaller.
  for (int64_t y = height - 1; y >= 0; --y) {
    const uint32_t* down2 = row(y + 2);
    const uint32_t* down1 = row(y + 1);
    uint32_t* cur = row(y);
    for (int64_t x = 0; x < width; ++x) {
      uint32_t m = std::min(down2[x - 1], down2[x + 1]) + kKnight;
      m = std::min(m, std::min(down1[x - 2], down1[x + 2]) + kKnight);
      m = std::min(m, std::min(down1[x - 1], down1[x + 1]) + kDiagonal);
      best[x] = std::min(std::min(m, down1[x] + kStraight), cur[x]);
    }
    uint32_t right = kUnreached;
    float* d = dst + y * width;
    for (int64_t x = width - 1; x >= 0; --x) {
      right = std::min(best[x], right + kStraight);
      cur[x] = right;
    }
    for (int64_t x = 0; x < width; ++x) {
      d[x] = static_cast<float>(std::min(cur[x], kUnreached)) * (1.0f / 65536.0f);
    }
  }
}

namespace {

// 3 x 3 sums over the framed plane: row sums of three in Sum, then each output finish(sum of
// three row sums).
template <typename T, typename Sum, typename Finish>
void BoxBlur3x3With(const T* src, int64_t height, int64_t width, T* dst, Finish finish) {
  const std::vector<T> f = Framed(src, height, width);
  const int64_t fw = width + 2;
  std::vector<Sum> sums(static_cast<size_t>((height + 2) * width));
  for (int64_t y = 0; y < height + 2; ++y) {
    const T* r = f.data() + y * fw;
    Sum* s = sums.data() + y * width;
    for (int64_t x = 0; x < width; ++x) {
      s[x] = static_cast<Sum>(static_cast<Sum>(r[x]) + static_cast<Sum>(r[x + 1]) +
                              static_cast<Sum>(r[x + 2]));
    }
  }
  for (int64_t y = 0; y < height; ++y) {
    const Sum* a = sums.data() + y * width;
    const Sum* b = a + width;
    const Sum* c = b + width;
    T* d = dst + y * width;
    for (int64_t x = 0; x < width; ++x) d[x] = finish(a[x] + b[x] + c[x]);
  }
}

}  // namespace

void BoxBlur3x3(const float* src, int64_t height, int64_t width, float* dst) {
  BoxBlur3x3With<float, double>(src, height, width, dst, [](double sum) {
    return static_cast<float>(sum * (1.0 / 9.0));
  });
}

void BoxBlur3x3(const uint8_t* src, int64_t height, int64_t width, uint8_t* dst) {
  BoxBlur3x3With<uint8_t, uint16_t>(src, height, width, dst, [](int32_t sum) {
    return static_cast<uint8_t>((sum * 2 + 9) / 18);
  });
}

void EqualizeHistogram(const uint8_t* src, int64_t n, uint8_t* dst) {
  CHECK_GT(n, 0);
  int64_t hist[256] = {};
  for (int64_t i = 0; i < n; ++i) ++hist[src[i]];
  int first = 0;
  while (hist[first] == 0) ++first;
  uint8_t lut[256] = {};
  if (hist[first] == n) {
    std::fill(lut, lut + 256, static_cast<uint8_t>(first));
  } else {
    const float scale = 255.0f / static_cast<float>(n - hist[first]);
    int64_t sum = 0;
    for (int level = first + 1; level < 256; ++level) {
      sum += hist[level];
      const float v = std::nearbyint(static_cast<float>(sum) * scale);
      lut[level] = static_cast<uint8_t>(std::clamp(v, 0.0f, 255.0f));
    }
  }
  for (int64_t i = 0; i < n; ++i) dst[i] = lut[src[i]];
}

void Correlate3x3(const uint8_t* src, int64_t height, int64_t width, const int kernel[9],
                  uint8_t* dst) {
  const std::vector<uint8_t> f = Framed(src, height, width);
  const int64_t fw = width + 2;
  std::vector<int32_t> acc(static_cast<size_t>(width));
  for (int64_t y = 0; y < height; ++y) {
    std::fill(acc.begin(), acc.end(), 0);
    for (int a = 0; a < 3; ++a) {
      const uint8_t* r = f.data() + (y + a) * fw;
      for (int b = 0; b < 3; ++b) {
        const int32_t k = kernel[3 * a + b];
        if (k == 0) continue;
        for (int64_t x = 0; x < width; ++x) acc[x] += k * r[x + b];
      }
    }
    uint8_t* d = dst + y * width;
    for (int64_t x = 0; x < width; ++x) d[x] = static_cast<uint8_t>(std::clamp(acc[x], 0, 255));
  }
}

}  // namespace robustness::corruptions_internal
