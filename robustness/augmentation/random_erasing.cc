#include "robustness/augmentation/random_erasing.h"

#include <cmath>

#include "glog/logging.h"

namespace robustness {

torch::Tensor RandomErasing(const torch::Tensor& image, const RandomErasingOptions& options,
                            ScalarRandom& random) {
  CHECK_EQ(image.dim(), 3);
  const int64_t c = image.size(0), h = image.size(1), w = image.size(2);
  CHECK_EQ(static_cast<int64_t>(options.mean.size()), c);
  CHECK_EQ(static_cast<int64_t>(options.std.size()), c);
  if (random.Uniform() > options.probability) return image;
  const int count = options.min_count == options.max_count
                        ? options.min_count
                        : static_cast<int>(random.UniformInt(options.min_count, options.max_count));
  torch::Tensor out = image.to(torch::kFloat).contiguous().clone();
  float* data = out.data_ptr<float>();
  const double log_min = std::log(options.aspect_min), log_max = std::log(options.aspect_max);
  for (int box = 0; box < count; ++box) {
    for (int attempt = 0; attempt < 10; ++attempt) {
      const double area = random.Uniform(options.area_min, options.area_max) * h * w / count;
      const double aspect = std::exp(random.Uniform(log_min, log_max));
      const int64_t bh = static_cast<int64_t>(std::nearbyint(std::sqrt(area * aspect)));
      const int64_t bw = static_cast<int64_t>(std::nearbyint(std::sqrt(area / aspect)));
      if (!(bw < w && bh < h)) continue;
      const int64_t top = random.UniformInt(0, h - bh);
      const int64_t left = random.UniformInt(0, w - bw);
      for (int64_t ch = 0; ch < c; ++ch) {
        const float mean = options.mean[ch], stddev = options.std[ch];
        const float channel_value =
            options.mode == RandomErasingOptions::Mode::kRand
                ? static_cast<float>(mean + stddev * random.Gauss(0.0, 1.0))
                : mean;
        for (int64_t y = top; y < top + bh; ++y) {
          float* row = data + (ch * h + y) * w;
          for (int64_t x = left; x < left + bw; ++x) {
            row[x] = options.mode == RandomErasingOptions::Mode::kPixel
                         ? static_cast<float>(mean + stddev * random.Gauss(0.0, 1.0))
                         : channel_value;
          }
        }
      }
      break;
    }
  }
  return out;
}

}  // namespace robustness
