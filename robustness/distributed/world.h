// Data parallelism on PyTorch's own distributed engine, c10d: the processes of one run (a
// "world"), rendezvous from torchrun's environment, and the collectives training and evaluation
// need. CPU: c10d::TCPStore (rank 0 serves it) + c10d::ProcessGroupGloo over TCP; with a CUDA
// LibTorch the same calls run Gloo on CPU copies (NCCL is not wired yet, see README).
//
//   torchrun --no_python --nproc_per_node=2 bazel-bin/tools/train/train --config=...
//
// Environment (torchrun's env:// rendezvous): RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,
// MASTER_PORT. None set: one process, every collective the identity. Some set: all five are
// required and checked. ROBUSTNESS_DIST_TIMEOUT_S (seconds, default 300) bounds the rendezvous and
// every collective: a rank that never joins or dies ends the run with DeadlineExceeded or
// Unavailable naming the peer, never a hang.
#ifndef ROBUSTNESS_DISTRIBUTED_WORLD_H_
#define ROBUSTNESS_DISTRIBUTED_WORLD_H_

#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace c10d {
class Work;
}  // namespace c10d

namespace robustness {

struct WorldConfig {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string master_addr;  // "" for a single process
  int master_port = 0;
  std::chrono::milliseconds timeout{300000};
};

// From the environment (see above). Errors name the variable and its value: WORLD_SIZE without
// RANK, RANK outside [0, WORLD_SIZE), a port outside [1, 65535], a timeout <= 0.
absl::StatusOr<WorldConfig> WorldConfigFromEnvironment();

class World {
 public:
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  // One process: rank 0 of 1, no sockets.
  static std::shared_ptr<World> Single();
  // Joins the world of `config` (world_size > 1): rank 0 serves the store on master_addr:
  // master_port (under torchrun, TORCHELASTIC_USE_AGENT_STORE=True, every rank joins the agent's
  // store instead, prefixed by the restart count, as torch.distributed's env:// does). Errors: the port in use (Unavailable), the master unreachable or a rank missing
  // after config.timeout (DeadlineExceeded), each naming address, port and ranks.
  static absl::StatusOr<std::shared_ptr<World>> Connect(const WorldConfig& config);

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool is_main() const { return rank_ == 0; }

  // Sums each tensor over the ranks, in place. Float tensors of any shapes and devices; they are
  // flattened into buckets of at most 25 MiB (DDP's default) so a model's gradients take a few
  // collectives, not one per parameter. Sums are formed in Gloo's ring order: with 2 ranks a + b,
  // bitwise the same on both ranks.
  absl::Status AllReduceSum(const std::vector<torch::Tensor>& tensors);
  // Overwrites each tensor with root's, in place (bucketed likewise).
  absl::Status Broadcast(const std::vector<torch::Tensor>& tensors, int root);
  absl::Status Barrier();
  // Every rank's `local` (the same dtype and trailing shape; any length along dim 0, which may
  // differ by rank) concatenated along dim 0 in rank order, on every rank. CPU tensors.
  absl::StatusOr<torch::Tensor> AllGather(const torch::Tensor& local);

  // Where this rank's progress lines go: stderr on rank 0, /dev/null on the others (one line
  // per run, not one per rank).
  std::FILE* progress_stream() const;

 private:
  struct Impl;
  World(int rank, int size, std::unique_ptr<Impl> impl);
  // `tensors` flattened into buckets, `start` run on each (one flat CPU tensor), waited for,
  // and the result copied back.
  absl::Status Bucketed(
      const std::vector<torch::Tensor>& tensors, const char* what,
      const std::function<c10::intrusive_ptr<c10d::Work>(std::vector<torch::Tensor>&)>& start);
  int rank_ = 0;
  int size_ = 1;
  std::unique_ptr<Impl> impl_;
};

// The process's world, joined on the first call from the environment (WorldConfigFromEnvironment
// then Connect), the same object afterwards. Binaries need no flag: under torchrun they find the
// world, alone they get World::Single().
absl::StatusOr<std::shared_ptr<World>> CurrentWorld();

}  // namespace robustness

#endif  // ROBUSTNESS_DISTRIBUTED_WORLD_H_
