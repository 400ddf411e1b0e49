// Test support: run a world of ranks on loopback the way torchrun would, by starting copies of
// the calling test binary with RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR=127.0.0.1 and a free
// MASTER_PORT set. The test's main() checks for `worker_flag` in the environment and, when set,
// plays one rank instead of running the tests.
#ifndef ROBUSTNESS_DISTRIBUTED_LOOPBACK_RANKS_H_
#define ROBUSTNESS_DISTRIBUTED_LOOPBACK_RANKS_H_

#include <chrono>
#include <string>
#include <vector>

namespace robustness {

// A TCP port nobody listens on right now on 127.0.0.1 (the kernel's pick for port 0).
int FreeLoopbackPort();

// Starts `world` copies of /proc/self/exe with the variables above plus `worker_flag`=1, the
// `extra_env` entries ("NAME=value") and ROBUSTNESS_DIST_TIMEOUT_S=60, and waits for all of them;
// a rank still running after `limit` is killed. Returns each rank's exit status (-1 killed or
// signalled).
std::vector<int> RunLoopbackRanks(int world, const std::string& worker_flag,
                                  const std::vector<std::string>& extra_env,
                                  std::chrono::seconds limit = std::chrono::seconds(120));

}  // namespace robustness

#endif  // ROBUSTNESS_DISTRIBUTED_LOOPBACK_RANKS_H_
