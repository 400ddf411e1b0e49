#include "robustness/distributed/world.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "glog/logging.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/status_matchers.h"
#include "robustness/distributed/loopback_ranks.h"

namespace robustness {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// The worker: every collective against its known answer; exit 0 when all hold.
int RunWorker() {
  absl::StatusOr<std::shared_ptr<World>> world = CurrentWorld();
  if (!world.ok()) {
    std::fprintf(stderr, "worker: %s\n", std::string(world.status().message()).c_str());
    return 3;
  }
  World& w = **world;
  const int r = w.rank();
  torch::Tensor a = torch::full({5}, static_cast<float>(r + 1));
  torch::Tensor b = torch::full({2, 3}, static_cast<double>(r * 10));
  torch::Tensor ints = torch::full({3}, static_cast<int64_t>(r + 7));  // another dtype: a bucket
  if (!w.AllReduceSum({a, b, ints}).ok()) return 4;
  if (!torch::all(a == 3).item<bool>() || !torch::all(b == 10).item<bool>() ||
      !torch::all(ints == 15).item<bool>()) {
    return 5;
  }
  torch::Tensor c = torch::full({4}, static_cast<float>(r));
  if (!w.Broadcast({c}, /*root=*/1).ok() || !torch::all(c == 1).item<bool>()) return 6;
  absl::StatusOr<torch::Tensor> gathered =
      w.AllGather(torch::arange(r + 1, torch::kLong) + 100 * r);  // lengths 1 and 2
  if (!gathered.ok()) return 7;
  if (!torch::equal(*gathered, torch::tensor({0, 100, 101}, torch::kLong))) return 8;
  if (!w.Barrier().ok()) return 9;
  return 0;
}

TEST(World, TwoRanksOnLoopbackAgreeOnEveryCollective) {
  EXPECT_EQ(RunLoopbackRanks(2, "ROBUSTNESS_WORLD_TEST_WORKER", {}),
            std::vector<int>({0, 0}));
}

TEST(World, NoEnvironmentIsOneProcess) {
  absl::StatusOr<WorldConfig> config = WorldConfigFromEnvironment();
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->world_size, 1);
  absl::StatusOr<std::shared_ptr<World>> world = World::Connect(*config);
  ASSERT_THAT(world, IsOk());
  EXPECT_EQ((*world)->size(), 1);
  torch::Tensor t = torch::ones({3});
  EXPECT_THAT((*world)->AllReduceSum({t}), IsOk());
  EXPECT_TRUE(torch::all(t == 1).item<bool>());
}

TEST(World, BadEnvironmentNamesTheVariable) {
  setenv("WORLD_SIZE", "2", 1);
  EXPECT_THAT(WorldConfigFromEnvironment(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("RANK is not set")));
  setenv("RANK", "2", 1);
  setenv("LOCAL_RANK", "0", 1);
  setenv("MASTER_ADDR", "127.0.0.1", 1);
  setenv("MASTER_PORT", "29500", 1);
  EXPECT_THAT(WorldConfigFromEnvironment(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("RANK=2: must be in [0")));
  setenv("RANK", "0", 1);
  setenv("MASTER_PORT", "70000", 1);
  EXPECT_THAT(WorldConfigFromEnvironment(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("MASTER_PORT=70000")));
  setenv("MASTER_PORT", "29500", 1);
  setenv("ROBUSTNESS_DIST_TIMEOUT_S", "-3", 1);
  EXPECT_THAT(WorldConfigFromEnvironment(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ROBUSTNESS_DIST_TIMEOUT_S")));
  for (const char* v : {"WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT",
                        "ROBUSTNESS_DIST_TIMEOUT_S"}) {
    unsetenv(v);
  }
}

WorldConfig Config(int rank, int port, int timeout_ms) {
  WorldConfig config;
  config.rank = rank;
  config.world_size = 2;
  config.master_addr = "127.0.0.1";
  config.master_port = port;
  config.timeout = std::chrono::milliseconds(timeout_ms);
  return config;
}

TEST(World, APortInUseIsAClearError) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  addr.sin_port = 0;
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int port = ntohs(addr.sin_port);
  EXPECT_THAT(World::Connect(Config(0, port, 2000)),
              StatusIs(absl::StatusCode::kUnavailable,
                       AllOf(HasSubstr("serving the rendezvous store at 127.0.0.1:"),
                             HasSubstr("in use"))));
  close(fd);
}

// Rank 0 alone (rank 1 never starts): an error after the timeout, not a hang.
TEST(World, AMissingRankEndsWithinTheTimeout) {
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::shared_ptr<World>> world = World::Connect(Config(0, FreeLoopbackPort(), 2000));
  ASSERT_FALSE(world.ok());
  EXPECT_THAT(std::string(world.status().message()), HasSubstr("rank 0 of 2"));
  std::fprintf(stderr, "missing rank: %s\n", world.status().ToString().c_str());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

// Rank 1 with nobody serving the store: an error after the timeout, not a hang.
TEST(World, AnUnreachableMasterEndsWithinTheTimeout) {
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::shared_ptr<World>> world = World::Connect(Config(1, FreeLoopbackPort(), 2000));
  ASSERT_FALSE(world.ok());
  EXPECT_THAT(std::string(world.status().message()),
              HasSubstr("joining the rendezvous store at 127.0.0.1:"));
  std::fprintf(stderr, "unreachable master: %s\n", world.status().ToString().c_str());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
}

}  // namespace
}  // namespace robustness

int main(int argc, char** argv) {
  if (std::getenv("ROBUSTNESS_WORLD_TEST_WORKER") != nullptr) return robustness::RunWorker();
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
