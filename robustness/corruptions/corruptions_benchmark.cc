// Images/s of each corruption on one thread, at severity 3, for 28 x 28 grey (the embedded
// Fashion-MNIST, CIFAR-10-C constants), 32 x 32 and 224 x 224 RGB images (imagecorruptions'
// constants), on the images tools/side_by_side/corruptions_reference.py times the reference on:
// 12 crops of python-matplotlib-data's photograph (6 places and their mirror images) at 224 px,
// the first 12 Fashion-MNIST test images at 28 px, and the same zero-padded to 32 px and
// replicated to RGB. Most corruptions cost the same on any content; JPEG does not (a photograph
// quantises most coefficients to zero, noise none). Where those files are missing, a fixed
// random image (the label says which). Frost uses the embedded substitute textures when
// installed.
//   bazel run -c opt //robustness/corruptions:corruptions_benchmark
#include <algorithm>
#include <filesystem>
#include <vector>

#include "benchmark/benchmark.h"
#include "glog/logging.h"
#include "robustness/corruptions/corruption_names.h"
#include "robustness/corruptions/corruptor.h"
#include "robustness/datasets/idx_reader.h"
#include "robustness/datasets/image_codec.h"
#include "robustness/proto/dataset.pb.h"

namespace robustness {
namespace {

const Corruptor& SharedCorruptor(proto::SeverityTable table) {
  static auto* corruptors = new std::map<int, Corruptor>;
  auto it = corruptors->find(table);
  if (it == corruptors->end()) {
    proto::CorruptionConfig config;
    config.set_severity_table(table);
    const char* kFolder = "/usr/share/gimp/2.0/patterns";
    if (std::filesystem::exists(std::string(kFolder) + "/ice2.pat")) {
      config.mutable_frost()->set_folder(kFolder);
      config.mutable_frost()->add_files("ice2.pat");
      config.mutable_frost()->add_files("icechex.pat");
      config.mutable_frost()->set_scale_override(3.0);
    }
    absl::StatusOr<Corruptor> c = Corruptor::Create(config);
    CHECK(c.ok()) << c.status();
    it = corruptors->emplace(table, std::move(*c)).first;
  }
  return it->second;
}

constexpr char kPhoto[] = "/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg";
constexpr char kFashionMnist[] = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
constexpr int kImages = 12;

Uint8Image RandomImage(int64_t channels, int64_t side) {
  Uint8Image image(channels, side, side);
  uint64_t x = 12345;
  for (uint8_t& v : image.data) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    v = static_cast<uint8_t>(x >> 56);
  }
  return image;
}

// The reference script's 224 px crops: corners, centre and (100, 150), each also mirrored.
std::vector<Uint8Image> PhotoCrops() {
  absl::StatusOr<torch::Tensor> photo = DecodeImageFile(kPhoto);
  if (!photo.ok() || photo->size(1) < 224 + 100 || photo->size(2) < 224 + 150) return {};
  const Uint8Image whole = ToUint8Image(*photo);
  const int64_t h = whole.height, w = whole.width;
  const std::pair<int64_t, int64_t> corners[] = {
      {0, 0}, {0, w - 224}, {h - 224, 0}, {h - 224, w - 224}, {(h - 224) / 2, (w - 224) / 2},
      {100, 150}};
  std::vector<Uint8Image> crops;
  for (auto [top, left] : corners) {
    for (bool mirror : {false, true}) {
      Uint8Image crop(3, 224, 224);
      for (int64_t c = 0; c < 3; ++c) {
        for (int64_t y = 0; y < 224; ++y) {
          for (int64_t x = 0; x < 224; ++x) {
            const int64_t sx = left + (mirror ? 223 - x : x);
            crop.plane(c)[y * 224 + x] = whole.plane(c)[(top + y) * w + sx];
          }
        }
      }
      crops.push_back(std::move(crop));
    }
  }
  return crops;
}

// The first test images, 28 px grey, or zero-padded to 32 px and replicated to RGB.
std::vector<Uint8Image> FashionMnist(int64_t side, int64_t channels) {
  proto::IdxSource source;
  source.set_images_path(kFashionMnist);
  source.set_labels_path("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz");
  source.set_num_classes(10);
  absl::StatusOr<InMemoryDataset> test_set = ReadIdxDataset(source);
  if (!test_set.ok()) return {};
  std::vector<Uint8Image> images;
  const int64_t pad = (side - 28) / 2;
  for (int i = 0; i < kImages; ++i) {
    const Uint8Image grey = Uint8ImageFromBytes(test_set->images()[i]);
    Uint8Image image(channels, side, side);
    for (int64_t c = 0; c < channels; ++c) {
      for (int64_t y = 0; y < 28; ++y) {
        std::copy_n(grey.plane(0) + y * 28, 28, image.plane(c) + (y + pad) * side + pad);
      }
    }
    images.push_back(std::move(image));
  }
  return images;
}

// The benchmark's images for a size, read once; `content` names them for the label.
const std::vector<Uint8Image>& ImagesFor(int64_t side, int64_t channels, std::string* content) {
  static auto* cache = new std::map<int64_t, std::pair<std::string, std::vector<Uint8Image>>>;
  auto it = cache->find(side);
  if (it == cache->end()) {
    std::vector<Uint8Image> images =
        side == 224 ? PhotoCrops() : FashionMnist(side, channels);
    std::string name = side == 224 ? "photo crops" : "fashion-mnist";
    if (images.empty() || images[0].channels != channels || images[0].height != side) {
      images = {RandomImage(channels, side)};
      name = "random image";
    }
    it = cache->emplace(side, std::make_pair(name, std::move(images))).first;
  }
  *content = it->second.first;
  return it->second.second;
}

// Args: corruption, side, channels. Cycles through the size's images.
void BM_Corrupt(benchmark::State& state) {
  const auto corruption = static_cast<proto::Corruption>(state.range(0));
  const int64_t side = state.range(1), channels = state.range(2);
  const Corruptor& corruptor =
      SharedCorruptor(side == 28 ? proto::CIFAR10_C : proto::IMAGECORRUPTIONS);
  std::string content;
  const std::vector<Uint8Image>& images = ImagesFor(side, channels, &content);
  for (const Uint8Image& image : images) {
    absl::StatusOr<Uint8Image> check = corruptor.Apply(image, corruption, 3, 0);
    if (!check.ok()) {
      state.SkipWithError(std::string(check.status().message()).c_str());
      return;
    }
    CHECK_EQ(check->data.size(), image.data.size());
  }
  uint64_t seed = 0;
  size_t next = 0;
  for (auto _ : state) {
    absl::StatusOr<Uint8Image> out = corruptor.Apply(images[next], corruption, 3, seed++);
    benchmark::DoNotOptimize(out->data.data());
    next = next + 1 == images.size() ? 0 : next + 1;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::string(CorruptionName(corruption)) + " (" + content + ")");
}

void Sizes(benchmark::internal::Benchmark* b) {
  for (int c = 1; c <= 19; ++c) {
    b->Args({c, 28, 1});
    b->Args({c, 32, 3});
    b->Args({c, 224, 3});
  }
}
BENCHMARK(BM_Corrupt)->Apply(Sizes)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace robustness
