// Per-image augmentation cost: every RandAugment op (timm 0.3.2, level 9, bicubic), RandAugment
// as DeiT runs it (rand-m9-mstd0.5-inc1), ColorJitter 0.4 and Random Erasing (DeiT's p 0.25,
// pixel mode; here p 1 so every iteration erases), at the embedded default's 1 x 28 x 28 and at
// paper scale 3 x 224 x 224; and the whole ImageNet training input path on a real JPEG
// photograph (decode + RandomResizedCrop 224 + flip + RandAugment 2 ops), the C++ side of
// tools/side_by_side/input_pipeline_reference.py. One thread (per-core rates).
//
//   bazel run -c opt //robustness/augmentation:augmentation_benchmark
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include "benchmark/benchmark.h"
#include "glog/logging.h"
#include "robustness/augmentation/color_jitter.h"
#include "robustness/augmentation/horizontal_flip.h"
#include "google/protobuf/text_format.h"
#include "robustness/augmentation/pil_ops.h"
#include "robustness/augmentation/pil_resize.h"
#include "robustness/augmentation/rand_augment.h"
#include "robustness/augmentation/random_erasing.h"
#include "robustness/augmentation/random_resized_crop.h"
#include "robustness/augmentation/transform_factory.h"
#include "robustness/augmentation/uint8_image.h"
#include "robustness/base/scalar_random.h"
#include "robustness/base/seed.h"
#include "robustness/datasets/image_codec.h"

namespace robustness {
namespace {

constexpr char kPhoto[] = "/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg";

Uint8Image Image(int64_t channels, int64_t size) {
  at::manual_seed(0);
  // A smooth image with texture, so LUT and histogram ops do real work.
  const at::Tensor t =
      (at::rand({channels, size, size}) * 0.3 + at::linspace(0, 0.7, size).view({1, 1, size}))
          .clamp(0, 1);
  return ToUint8Image(t);
}

std::vector<uint8_t> Fill(int64_t channels) {
  return channels == 3 ? std::vector<uint8_t>{124, 116, 104} : std::vector<uint8_t>{73};
}

void BM_RandAugmentOp(benchmark::State& state, RandAugmentOp op) {
  at::set_num_threads(1);
  const int64_t c = state.range(0), size = state.range(1);
  const Uint8Image image = Image(c, size);
  const Uint8Image check = ApplyRandAugmentOp(image, op, 9.0, false, Resample::kBicubic, Fill(c));
  CHECK_EQ(check.data.size(), image.data.size());  // checked before timing
  for (auto _ : state) {
    Uint8Image out = ApplyRandAugmentOp(image, op, 9.0, false, Resample::kBicubic, Fill(c));
    benchmark::DoNotOptimize(out.data.data());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_RandAugment_Deit(benchmark::State& state) {
  at::set_num_threads(1);
  const int64_t c = state.range(0), size = state.range(1);
  const at::Tensor image = ToFloatTensor(Image(c, size));
  RandAugmentOptions options;
  options.params = *ParseRandAugmentSpec("rand-m9-mstd0.5-inc1");
  options.fill = Fill(c);
  uint64_t seed = 0;
  ScalarRandom check(seed);
  CHECK_EQ(RandAugment(image, options, check).sizes(), image.sizes());
  for (auto _ : state) {
    ScalarRandom random(++seed);
    at::Tensor out = RandAugment(image, options, random);
    benchmark::DoNotOptimize(out.data_ptr());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_ColorJitter(benchmark::State& state) {
  at::set_num_threads(1);
  const int64_t c = state.range(0), size = state.range(1);
  const at::Tensor image = ToFloatTensor(Image(c, size));
  uint64_t seed = 0;
  for (auto _ : state) {
    ScalarRandom random(++seed);
    at::Tensor out = ColorJitter(image, ColorJitterOptions{}, random);
    benchmark::DoNotOptimize(out.data_ptr());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_RandomErasing(benchmark::State& state) {
  at::set_num_threads(1);
  const int64_t c = state.range(0), size = state.range(1);
  const at::Tensor image = ToFloatTensor(Image(c, size));
  RandomErasingOptions options;
  options.probability = 1.0;
  options.mode = RandomErasingOptions::Mode::kPixel;
  options.mean.assign(c, 0.45f);
  options.std.assign(c, 0.25f);
  ScalarRandom check(0);
  CHECK(!RandomErasing(image, options, check).is_same(image));
  uint64_t seed = 0;
  for (auto _ : state) {
    ScalarRandom random(++seed);
    at::Tensor out = RandomErasing(image, options, random);
    benchmark::DoNotOptimize(out.data_ptr());
  }
  state.SetItemsProcessed(state.iterations());
}

// decode + RandomResizedCrop(224, bicubic) + flip + RandAugment(2 ops, m9): the torchvision
// pipeline's work on the same file (input_pipeline_reference.py).
// DeiT's training transform as a recipe builds it (RandomResizedCrop 224 bicubic, flip,
// rand-m9-mstd0.5-inc1: 2 ops, each applied with p 0.5), run as the batch loader runs it: the
// transform picks its box, only the box is decoded, the rest works on it. This is the C++ side of
// tools/side_by_side/input_pipeline_reference.py.
void BM_InputPipeline_JpegRrcFlipRandAugment(benchmark::State& state) {
  at::set_num_threads(1);
  proto::TrainTransformConfig config;
  CHECK(google::protobuf::TextFormat::ParseFromString(
      "random_resized_crop { size: 224 scale_min: 0.08 scale_max: 1 ratio_min: 0.75 "
      "ratio_max: 1.3333333333333333 } horizontal_flip: true "
      "rand_augment { spec: 'rand-m9-mstd0.5-inc1' interpolation: BICUBIC "
      "fill: [124, 116, 104] } no_erasing {}",
      &config));
  absl::StatusOr<ImageTransform> transform = CreateTrainTransform(config);
  CHECK(transform.ok()) << transform.status();
  CHECK(transform->crop_first());
  absl::StatusOr<at::Tensor> probe = DecodeImageFile(kPhoto);
  CHECK(probe.ok()) << probe.status() << " (python-matplotlib-data ships the photograph)";
  uint64_t seed = 0;
  for (auto _ : state) {
    ++seed;
    int64_t height = 0, width = 0;
    absl::StatusOr<at::Tensor> region = DecodeImageFileRegion(kPhoto, [&](int64_t h, int64_t w) {
      height = h;
      width = w;
      return transform->Region(h, w, seed);
    });
    CHECK(region.ok()) << region.status();
    const at::Tensor out = transform->ApplyToRegion(*region, height, width, seed);
    CHECK_EQ(out.size(1), 224);
    benchmark::DoNotOptimize(out.data_ptr());
  }
  state.SetItemsProcessed(state.iterations());
}

// The parts: a whole decode (uint8), and the resize of a typical crop (400 x 400 -> 224).
void BM_JpegDecodeWhole(benchmark::State& state) {
  for (auto _ : state) {
    absl::StatusOr<at::Tensor> image =
        DecodeImageFileRegion(kPhoto, [](int64_t h, int64_t w) { return PixelBox{0, 0, h, w}; });
    CHECK(image.ok()) << image.status();
    benchmark::DoNotOptimize(image->data_ptr());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_PilResizeBicubic_400To224(benchmark::State& state) {
  const Uint8Image crop = Image(3, 400);
  for (auto _ : state) {
    Uint8Image out = PilResize(crop, 224, 224, Resample::kBicubic);
    benchmark::DoNotOptimize(out.data.data());
  }
  state.SetItemsProcessed(state.iterations());
}

#define SHAPES ->Args({1, 28})->Args({3, 224})
#define OP(name) BENCHMARK_CAPTURE(BM_RandAugmentOp, name, RandAugmentOp::k##name) SHAPES;
OP(AutoContrast)
OP(Equalize)
OP(Invert)
OP(Rotate)
OP(Posterize)
OP(PosterizeIncreasing)
OP(Solarize)
OP(SolarizeIncreasing)
OP(SolarizeAdd)
OP(Color)
OP(ColorIncreasing)
OP(Contrast)
OP(ContrastIncreasing)
OP(Brightness)
OP(BrightnessIncreasing)
OP(Sharpness)
OP(SharpnessIncreasing)
OP(ShearX)
OP(ShearY)
OP(TranslateXRel)
OP(TranslateYRel)
BENCHMARK(BM_RandAugment_Deit) SHAPES;
BENCHMARK(BM_ColorJitter) SHAPES;
BENCHMARK(BM_RandomErasing) SHAPES;
BENCHMARK(BM_InputPipeline_JpegRrcFlipRandAugment)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_JpegDecodeWhole)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_PilResizeBicubic_400To224)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace robustness
