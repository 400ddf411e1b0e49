#include "robustness/datasets/repeated_augmentation_sampler.h"

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace robustness {
namespace {

TEST(RepeatedAugmentationOrder, EqualsDeitsSamplerOnPyTorch) {
  std::ifstream in("robustness/datasets/testdata/ra_sampler_orders.txt");
  ASSERT_TRUE(in) << "missing fixture";
  std::string line;
  int cases = 0;
  while (std::getline(in, line)) {
    std::istringstream s(line);
    int64_t n, epoch;
    int repeats, multiple, replicas, rank;
    char colon;
    s >> n >> epoch >> repeats >> multiple >> replicas >> rank >> colon;
    std::vector<int64_t> expected;
    for (int64_t v; s >> v;) expected.push_back(v);
    EXPECT_EQ(RepeatedAugmentationOrder(n, epoch, repeats, multiple, replicas, rank), expected)
        << line.substr(0, 40);
    ++cases;
  }
  EXPECT_EQ(cases, 4);
}

TEST(RepeatedAugmentationOrder, OneReplicaSeesEachImageThreeTimesInARow) {
  const std::vector<int64_t> order = RepeatedAugmentationOrder(600, 2, 3, 256, 1, 0);
  ASSERT_EQ(order.size(), 512u);  // floor(600 / 256) * 256
  for (size_t i = 0; i + 2 < 510; i += 3) {
    EXPECT_EQ(order[i], order[i + 1]);
    EXPECT_EQ(order[i], order[i + 2]);
  }
  EXPECT_EQ(order, RepeatedAugmentationOrder(600, 2, 3, 256, 1, 0));
  EXPECT_NE(order, RepeatedAugmentationOrder(600, 3, 3, 256, 1, 0));
}

TEST(RepeatedAugmentationOrder, RanksPartitionTheEpochAndCopiesLandOnDifferentRanks) {
  std::map<int64_t, std::vector<int>> ranks_of;
  for (int rank = 0; rank < 3; ++rank) {
    for (int64_t index : RepeatedAugmentationOrder(300, 0, 3, 1, 3, rank)) {
      ranks_of[index].push_back(rank);
    }
  }
  EXPECT_EQ(ranks_of.size(), 100u);  // an epoch covers n / 3 images, each 3 times
  for (const auto& [index, ranks] : ranks_of) {
    EXPECT_EQ(ranks, (std::vector<int>{0, 1, 2})) << index;
  }
}

}  // namespace
}  // namespace robustness
