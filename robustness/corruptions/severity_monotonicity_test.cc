// Severity is monotone: a fixed model's accuracy does not rise with severity. The model is a
// nearest-class-mean classifier fitted on 3000 Fashion-MNIST training images (no training run
// needed, deterministic), evaluated on 300 test images at CIFAR-10-C's severities (the embedded
// table), every corruption.
#include <filesystem>

#include "gtest/gtest.h"
#include "robustness/base/status_matchers.h"
#include "robustness/corruptions/corruption_names.h"
#include "robustness/corruptions/corruptor.h"
#include "robustness/datasets/idx_reader.h"

namespace robustness {
namespace {

constexpr char kData[] = "/usr/share/datasets/fashion-mnist/";

InMemoryDataset Read(const std::string& prefix) {
  proto::IdxSource source;
  source.set_images_path(absl::StrCat(kData, prefix, "-images-idx3-ubyte.gz"));
  source.set_labels_path(absl::StrCat(kData, prefix, "-labels-idx1-ubyte.gz"));
  source.set_num_classes(10);
  auto data = ReadIdxDataset(source);
  CHECK(data.ok()) << data.status();
  return std::move(*data);
}

TEST(SeverityMonotonicity, AFixedModelsAccuracyDoesNotRiseWithSeverity) {
  if (!std::filesystem::exists(std::string(kData) + "t10k-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "dataset-fashion-mnist not installed (tools/setup.sh installs it)";
  }
  const InMemoryDataset train = Read("train"), test = Read("t10k");
  const torch::Tensor x = train.images().slice(0, 0, 3000).to(torch::kFloat).flatten(1);
  const torch::Tensor y = train.labels().slice(0, 0, 3000);
  torch::Tensor means = torch::zeros({10, 784});
  for (int c = 0; c < 10; ++c) means[c] = x.index({y.eq(c)}).mean(0);
  const torch::Tensor images = test.images().slice(0, 0, 300);
  const torch::Tensor labels = test.labels().slice(0, 0, 300);
  auto accuracy = [&](const torch::Tensor& batch) {
    const torch::Tensor d = torch::cdist(batch.to(torch::kFloat).flatten(1), means);
    return 100.0 * d.argmin(1).eq(labels).to(torch::kFloat).mean().item<double>();
  };
  proto::CorruptionConfig config;
  config.set_severity_table(proto::CIFAR10_C);
  const bool frost = std::filesystem::exists("/usr/share/gimp/2.0/patterns/ice2.pat");
  if (frost) {
    config.mutable_frost()->set_folder("/usr/share/gimp/2.0/patterns");
    for (const char* f : {"ice2.pat", "icechex.pat", "crystals.pat"}) config.mutable_frost()->add_files(f);
    config.mutable_frost()->set_scale_override(0.5);
  }
  auto corruptor = Corruptor::Create(config);
  ASSERT_THAT(corruptor.status(), IsOk());
  const double clean = accuracy(images);
  double total_step = 0;
  int steps = 0;
  for (proto::Corruption c : AllCorruptions()) {
    if (c == proto::FROST && !frost) continue;
    std::vector<double> acc;
    for (int s = 1; s <= 5; ++s) {
      auto out = corruptor->ApplyBatch(images, c, s, 0, 0, 2);
      ASSERT_THAT(out.status(), IsOk());
      acc.push_back(accuracy(*out));
    }
    const std::string name = CorruptionName(c);
    // On average over the four steps, accuracy does not rise (1 point of slack: 300 images).
    const double mean_step = (acc[4] - acc[0]) / 4;
    total_step += mean_step;
    ++steps;
    // CIFAR-10-C's elastic s1 is a pure affine warp with the largest range (2.56 px) and s5 a
    // milder one plus a field: the published constants are not ordered for this mechanism (the
    // references' AlexNet is non-monotone on ImageNet-C elastic too, ood_suite.md 2).
    if (c != proto::ELASTIC_TRANSFORM) {
      EXPECT_LE(mean_step, 0.25) << name << ": " << acc[0] << " .. " << acc[4];
    }
    EXPECT_LE(acc[4], clean + 1.0) << name;
  }
  EXPECT_LE(total_step / steps, 0.0) << "averaged over the corruptions";
}

}  // namespace
}  // namespace robustness
