#include "robustness/textures/kmeans.h"

#include <gtest/gtest.h>

#include "robustness/base/seed.h"

namespace robustness {
namespace {

proto::KMeansConfig Config(int restarts) {
  proto::KMeansConfig c;
  c.set_restarts(restarts);
  c.set_max_iterations(300);
  c.set_tolerance(1e-4);
  return c;
}

TEST(KMeansTest, FindsSeparatedClustersAndTheirMeans) {
  torch::Generator data = MakeCpuGenerator(1);
  const torch::Tensor centres = torch::tensor({{0.f, 0.f}, {10.f, 0.f}, {0.f, 10.f}});
  const torch::Tensor labels = torch::arange(60, torch::kLong).remainder(3);
  const torch::Tensor points =
      centres.index_select(0, labels) + 0.3 * torch::randn({60, 2}, data, torch::kFloat);
  torch::Generator gen = MakeCpuGenerator(0);
  const KMeansResult r = KMeans(points, 3, Config(3), gen);
  // Same partition as the truth (up to cluster numbering), centres at the group means.
  for (int64_t i = 0; i < 60; ++i) {
    for (int64_t j = 0; j < 60; ++j) {
      EXPECT_EQ(r.assignment[i].item<int64_t>() == r.assignment[j].item<int64_t>(),
                labels[i].item<int64_t>() == labels[j].item<int64_t>());
    }
  }
  for (int64_t c = 0; c < 3; ++c) {
    const torch::Tensor members = points.index({r.assignment == c});
    EXPECT_TRUE(torch::allclose(r.centers[c], members.mean(0), 1e-4, 1e-5));
  }
  EXPECT_NEAR(r.inertia, (points - r.centers.index_select(0, r.assignment)).pow(2).sum().item<double>(),
              1e-3);
}

TEST(KMeansTest, DeterministicForAGeneratorStateAndKEqualToN) {
  torch::Generator data = MakeCpuGenerator(2);
  const torch::Tensor points = torch::randn({40, 5}, data, torch::kFloat);
  torch::Generator a = MakeCpuGenerator(7), b = MakeCpuGenerator(7);
  const KMeansResult ra = KMeans(points, 4, Config(2), a);
  const KMeansResult rb = KMeans(points, 4, Config(2), b);
  EXPECT_TRUE(torch::equal(ra.centers, rb.centers));
  EXPECT_TRUE(torch::equal(ra.assignment, rb.assignment));
  // More restarts never end worse than the first start.
  torch::Generator c = MakeCpuGenerator(7), d = MakeCpuGenerator(7);
  EXPECT_LE(KMeans(points, 4, Config(5), c).inertia, KMeans(points, 4, Config(1), d).inertia);
  torch::Generator e = MakeCpuGenerator(3);
  const KMeansResult every = KMeans(points.narrow(0, 0, 6), 6, Config(1), e);
  EXPECT_NEAR(every.inertia, 0.0, 1e-4);  // each point its own centre (float rounding)
}

}  // namespace
}  // namespace robustness
