#include "robustness/base/unit_workers.h"

#include <dlfcn.h>

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include <ATen/Parallel.h>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace robustness {
namespace {

// OpenBLAS keeps its own thread pool beside OpenMP's (Debian's libopenblas0-pthread). Looked up
// at run time: the BLAS behind libblas.so.3 may not be OpenBLAS.
using GetThreads = int (*)();
using SetThreads = void (*)(int);

GetThreads OpenBlasGet() {
  return reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
}
SetThreads OpenBlasSet() {
  return reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
}

}  // namespace

WorkerLayout ChooseWorkerLayout(int threads, int64_t num_units, bool cpu) {
  CHECK_GE(threads, 1);
  WorkerLayout layout;
  if (!cpu || num_units <= 1) {
    layout.threads_per_worker = threads;
    return layout;
  }
  layout.workers = static_cast<int>(std::min<int64_t>(threads, num_units));
  layout.threads_per_worker = std::max(1, threads / layout.workers);
  return layout;
}

absl::Status RunUnits(const WorkerLayout& layout, int64_t num_units,
                      const std::function<absl::Status(int64_t unit)>& fn) {
  CHECK_GE(layout.workers, 1);
  CHECK_GE(layout.threads_per_worker, 1);
  auto guarded = [&fn](int64_t unit) -> absl::Status {
    try {
      return fn(unit);
    } catch (const std::exception& e) {
      return absl::InternalError(absl::StrCat("unit ", unit, ": ", e.what()));
    }
  };
  if (layout.workers == 1) {
    for (int64_t u = 0; u < num_units; ++u) {
      absl::Status status = guarded(u);
      if (!status.ok()) return status;
    }
    return absl::OkStatus();
  }

  const int caller_threads = at::get_num_threads();
  const GetThreads blas_get = OpenBlasGet();
  const SetThreads blas_set = OpenBlasSet();
  const int caller_blas_threads = blas_get != nullptr && blas_set != nullptr ? blas_get() : 0;
  if (caller_blas_threads > 0) blas_set(layout.threads_per_worker);

  std::mutex mu;
  std::condition_variable cv;
  int ready = 0;        // workers whose thread settings are in place
  int64_t next = 0;     // the next unit to start
  int64_t failed = -1;  // lowest failing unit
  absl::Status error;

  auto worker = [&]() {
    {
      // Thread settings one worker at a time and before any unit runs: at::set_num_threads also
      // clears oneDNN's computation cache, which must not happen under another worker's kernel.
      std::unique_lock<std::mutex> lock(mu);
      at::get_num_threads();  // ATen's per-thread lazy initialisation (copies the global count)
      at::set_num_threads(layout.threads_per_worker);
      ++ready;
      cv.notify_all();
      cv.wait(lock, [&] { return ready == layout.workers; });
    }
    for (;;) {
      int64_t unit;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (next >= num_units || failed >= 0) return;
        unit = next++;
      }
      absl::Status status = guarded(unit);
      if (!status.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (failed < 0 || unit < failed) {
          failed = unit;
          error = std::move(status);
        }
      }
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(layout.workers);
  for (int w = 0; w < layout.workers; ++w) threads.emplace_back(worker);
  for (std::thread& t : threads) t.join();

  at::set_num_threads(caller_threads);  // the global count new threads copy, and this thread's
  if (caller_blas_threads > 0) blas_set(caller_blas_threads);
  return failed >= 0 ? error : absl::OkStatus();
}

}  // namespace robustness
