#include "robustness/distributed/world.h"

#include <cstdlib>
#include <functional>
#include <mutex>
#include <utility>

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "robustness/base/torch_status.h"

namespace robustness {
namespace {

constexpr int64_t kBucketBytes = 25 << 20;  // DDP's bucket_cap_mb default

// A failed c10d call as a Status: "in use" -> Unavailable, time-outs -> DeadlineExceeded, else
// Internal; the message says what was being done and the first line of c10d's.
absl::Status C10dError(const std::string& what, const std::exception& e) {
  const std::string summary = ExceptionSummary(e);
  absl::StatusCode code = absl::StatusCode::kInternal;
  if (absl::StrContains(summary, "in use")) {
    code = absl::StatusCode::kUnavailable;
  } else if (absl::StrContains(summary, "imed out") || absl::StrContains(summary, "imeout") ||
             absl::StrContains(summary, "deadline")) {
    code = absl::StatusCode::kDeadlineExceeded;
  } else if (absl::StrContains(summary, "onnection") || absl::StrContains(summary, "closed") ||
             absl::StrContains(summary, "reset")) {
    code = absl::StatusCode::kUnavailable;
  }
  return absl::Status(code, absl::StrCat(what, ": ", summary));
}

absl::StatusOr<int> IntFromEnv(const char* name, const char* value) {
  int v = 0;
  if (!absl::SimpleAtoi(value, &v)) {
    return absl::InvalidArgumentError(
        absl::StrCat("environment variable ", name, "=\"", value, "\" is not an integer"));
  }
  return v;
}

}  // namespace

struct World::Impl {
  WorldConfig config;
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;

  // Waits for `work` within the timeout; a failure names the collective and the world.
  absl::Status Wait(const c10::intrusive_ptr<c10d::Work>& work, const char* what) const {
    try {
      work->wait(config.timeout);
    } catch (const std::exception& e) {
      return C10dError(absl::StrCat(what, " on rank ", config.rank, " of ", config.world_size,
                                    " (a peer died or is stuck; timeout ",
                                    config.timeout.count() / 1000.0, " s)"),
                       e);
    }
    return absl::OkStatus();
  }
};

absl::StatusOr<WorldConfig> WorldConfigFromEnvironment() {
  const char* names[] = {"RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"};
  const char* values[5];
  int set = 0;
  for (int i = 0; i < 5; ++i) {
    values[i] = std::getenv(names[i]);
    set += values[i] != nullptr;
  }
  WorldConfig config;
  if (const char* t = std::getenv("ROBUSTNESS_DIST_TIMEOUT_S")) {
    double seconds = 0;
    if (!absl::SimpleAtod(t, &seconds) || !(seconds > 0)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "environment variable ROBUSTNESS_DIST_TIMEOUT_S=\"", t, "\" must be seconds > 0"));
    }
    config.timeout = std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  }
  if (set == 0) return config;
  for (int i = 0; i < 5; ++i) {
    if (values[i] == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "environment variable ", names[i], " is not set, but ", names[i == 0 ? 1 : 0], " is: ",
          "a distributed run (torchrun) needs RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and "
          "MASTER_PORT"));
    }
  }
  absl::StatusOr<int> rank = IntFromEnv("RANK", values[0]);
  if (!rank.ok()) return rank.status();
  absl::StatusOr<int> size = IntFromEnv("WORLD_SIZE", values[1]);
  if (!size.ok()) return size.status();
  absl::StatusOr<int> local = IntFromEnv("LOCAL_RANK", values[2]);
  if (!local.ok()) return local.status();
  absl::StatusOr<int> port = IntFromEnv("MASTER_PORT", values[4]);
  if (!port.ok()) return port.status();
  if (*size < 1) {
    return absl::InvalidArgumentError(absl::StrCat("WORLD_SIZE=", *size, ": must be >= 1"));
  }
  if (*rank < 0 || *rank >= *size) {
    return absl::InvalidArgumentError(
        absl::StrCat("RANK=", *rank, ": must be in [0, WORLD_SIZE=", *size, ")"));
  }
  if (*local < 0) {
    return absl::InvalidArgumentError(absl::StrCat("LOCAL_RANK=", *local, ": must be >= 0"));
  }
  if (*port < 1 || *port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("MASTER_PORT=", *port, ": must be in [1, 65535]"));
  }
  if (std::string(values[3]).empty()) {
    return absl::InvalidArgumentError("MASTER_ADDR is empty");
  }
  config.rank = *rank;
  config.world_size = *size;
  config.local_rank = *local;
  config.master_addr = values[3];
  config.master_port = *port;
  return config;
}

World::World(int rank, int size, std::unique_ptr<Impl> impl)
    : rank_(rank), size_(size), impl_(std::move(impl)) {}

World::~World() = default;

std::shared_ptr<World> World::Single() {
  return std::shared_ptr<World>(new World(0, 1, nullptr));
}

absl::StatusOr<std::shared_ptr<World>> World::Connect(const WorldConfig& config) {
  if (config.world_size <= 1) return Single();
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  const std::string where =
      absl::StrCat(config.master_addr, ":", config.master_port, " (rank ", config.rank, " of ",
                   config.world_size, ")");
  try {
    // Under torchrun the agent already serves a store at MASTER_ADDR:MASTER_PORT
    // (TORCHELASTIC_USE_AGENT_STORE=True): every rank joins it as a client, under the prefix of
    // this restart, as torch.distributed's env:// rendezvous does. Otherwise rank 0 serves one.
    const char* agent = std::getenv("TORCHELASTIC_USE_AGENT_STORE");
    const bool agent_store = agent != nullptr && std::string(agent) == "True";
    c10d::TCPStoreOptions options;
    options.port = static_cast<uint16_t>(config.master_port);
    options.isServer = !agent_store && config.rank == 0;
    options.numWorkers = static_cast<size_t>(config.world_size);
    options.waitWorkers = !agent_store;
    options.timeout = config.timeout;
    c10::intrusive_ptr<c10d::Store> tcp =
        c10::make_intrusive<c10d::TCPStore>(config.master_addr, options);
    if (agent_store) {
      const char* restarts = std::getenv("TORCHELASTIC_RESTART_COUNT");
      impl->store = c10::make_intrusive<c10d::PrefixStore>(
          absl::StrCat("/worker/attempt_", restarts == nullptr ? "0" : restarts), tcp);
    } else {
      impl->store = tcp;
    }
  } catch (const std::exception& e) {
    const char* agent = std::getenv("TORCHELASTIC_USE_AGENT_STORE");
    const bool serving = config.rank == 0 && !(agent != nullptr && std::string(agent) == "True");
    return C10dError(absl::StrCat(serving ? "serving" : "joining",
                                  " the rendezvous store at ", where),
                     e);
  }
  try {
    auto options = c10d::ProcessGroupGloo::Options::create(config.timeout);
    // Loopback masters (one machine): bind Gloo to loopback; otherwise to this host's address.
    const bool loopback = config.master_addr == "127.0.0.1" || config.master_addr == "localhost";
    options->devices.push_back(
        loopback ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                 : c10d::ProcessGroupGloo::createDefaultDevice());
    impl->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl->store, config.rank,
                                                              config.world_size, options);
  } catch (const std::exception& e) {
    return C10dError(absl::StrCat("forming the Gloo process group at ", where,
                                  " (did every rank start?)"),
                     e);
  }
  return std::shared_ptr<World>(new World(config.rank, config.world_size, std::move(impl)));
}

namespace {

// Consecutive runs of tensors of one dtype whose bytes fit a bucket (a tensor larger than a
// bucket is a bucket of its own).
std::vector<std::vector<torch::Tensor>> Buckets(const std::vector<torch::Tensor>& tensors) {
  std::vector<std::vector<torch::Tensor>> buckets;
  int64_t bytes = 0;
  for (const torch::Tensor& t : tensors) {
    const int64_t b = t.numel() * static_cast<int64_t>(t.element_size());
    if (buckets.empty() || bytes + b > kBucketBytes ||
        buckets.back().front().scalar_type() != t.scalar_type()) {
      buckets.emplace_back();
      bytes = 0;
    }
    buckets.back().push_back(t);
    bytes += b;
  }
  return buckets;
}

torch::Tensor Flatten(const std::vector<torch::Tensor>& bucket) {
  std::vector<torch::Tensor> flat;
  for (const torch::Tensor& t : bucket) flat.push_back(t.detach().to(torch::kCPU).reshape({-1}));
  return torch::cat(flat);
}

void Unflatten(const torch::Tensor& flat, const std::vector<torch::Tensor>& bucket) {
  int64_t offset = 0;
  torch::NoGradGuard no_grad;
  for (const torch::Tensor& t : bucket) {
    const int64_t n = t.numel();
    torch::Tensor target = t;
    target.copy_(flat.slice(0, offset, offset + n).view(t.sizes()));
    offset += n;
  }
}

}  // namespace

absl::Status World::Bucketed(
    const std::vector<torch::Tensor>& tensors, const char* what,
    const std::function<c10::intrusive_ptr<c10d::Work>(std::vector<torch::Tensor>&)>& start) {
  for (const std::vector<torch::Tensor>& bucket : Buckets(tensors)) {
    std::vector<torch::Tensor> flat = {Flatten(bucket)};
    c10::intrusive_ptr<c10d::Work> work;
    try {
      work = start(flat);
    } catch (const std::exception& e) {
      return C10dError(what, e);
    }
    absl::Status status = impl_->Wait(work, what);
    if (!status.ok()) return status;
    Unflatten(flat[0], bucket);
  }
  return absl::OkStatus();
}

absl::Status World::AllReduceSum(const std::vector<torch::Tensor>& tensors) {
  if (size_ == 1) return absl::OkStatus();
  return Bucketed(tensors, "all-reduce",
                  [this](std::vector<torch::Tensor>& flat) { return impl_->group->allreduce(flat); });
}

absl::Status World::Broadcast(const std::vector<torch::Tensor>& tensors, int root) {
  CHECK(root >= 0 && root < size_) << root;
  if (size_ == 1) return absl::OkStatus();
  c10d::BroadcastOptions options;
  options.rootRank = root;
  return Bucketed(tensors, "broadcast", [this, &options](std::vector<torch::Tensor>& flat) {
    return impl_->group->broadcast(flat, options);
  });
}

absl::Status World::Barrier() {
  if (size_ == 1) return absl::OkStatus();
  c10::intrusive_ptr<c10d::Work> work;
  try {
    work = impl_->group->barrier();
  } catch (const std::exception& e) {
    return C10dError("barrier", e);
  }
  return impl_->Wait(work, "barrier");
}

absl::StatusOr<torch::Tensor> World::AllGather(const torch::Tensor& local) {
  CHECK_GE(local.dim(), 1);
  if (size_ == 1) return local;
  const torch::Tensor cpu = local.detach().to(torch::kCPU).contiguous();
  torch::Tensor lengths = torch::zeros({size_}, torch::kLong);
  lengths[rank_] = cpu.size(0);
  absl::Status status = AllReduceSum({lengths});
  if (!status.ok()) return status;
  const int64_t longest = lengths.max().item<int64_t>();
  std::vector<int64_t> shape = cpu.sizes().vec();
  shape[0] = longest;
  torch::Tensor padded = torch::zeros(shape, cpu.options());
  padded.slice(0, 0, cpu.size(0)).copy_(cpu);
  std::vector<std::vector<torch::Tensor>> outputs(1);
  for (int r = 0; r < size_; ++r) outputs[0].push_back(torch::empty(shape, cpu.options()));
  std::vector<torch::Tensor> inputs = {padded};
  c10::intrusive_ptr<c10d::Work> work;
  try {
    work = impl_->group->allgather(outputs, inputs);
  } catch (const std::exception& e) {
    return C10dError("all-gather", e);
  }
  status = impl_->Wait(work, "all-gather");
  if (!status.ok()) return status;
  std::vector<torch::Tensor> parts;
  for (int r = 0; r < size_; ++r) {
    parts.push_back(outputs[0][r].slice(0, 0, lengths[r].item<int64_t>()));
  }
  return torch::cat(parts);
}

std::FILE* World::progress_stream() const {
  static std::FILE* const dev_null = std::fopen("/dev/null", "w");
  return is_main() || dev_null == nullptr ? stderr : dev_null;
}

absl::StatusOr<std::shared_ptr<World>> CurrentWorld() {
  static std::once_flag once;
  static absl::StatusOr<std::shared_ptr<World>>* world = nullptr;
  std::call_once(once, [] {
    absl::StatusOr<WorldConfig> config = WorldConfigFromEnvironment();
    world = new absl::StatusOr<std::shared_ptr<World>>(
        config.ok() ? World::Connect(*config)
                    : absl::StatusOr<std::shared_ptr<World>>(config.status()));
    if (world->ok() && (**world)->size() > 1) {
      std::fprintf(stderr, "[world] rank %d of %d joined %s:%d\n", (**world)->rank(),
                   (**world)->size(), config->master_addr.c_str(), config->master_port);
    }
  });
  return *world;
}

}  // namespace robustness
