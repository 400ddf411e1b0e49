// Independent work units (one AutoAttack batch at one radius, ...) run on several worker threads
// of one process, each worker with its own intra-op thread count.
//
// Why: on a few CPU cores a small batch does not keep two intra-op threads busy. Measured on the
// project machine (2 cores, Fashion-MNIST ResNet-18 w16, one forward-backward w.r.t. the input,
// Debian's python3-torch, the same kernels as LibTorch): one process with 2 threads 644 images/s
// at batch 128 and 464 at batch 32; two processes with 1 thread each 1,008 and 1,163 together.
// Attacks shrink their batches as images are fooled, so the gap grows as they run.
//
// Contract:
//   * fn(unit) is called once for every unit in [0, num_units), in increasing order of start
//     (workers take the next unit when they are free). Units must not depend on each other; fn
//     must be safe to call from several threads at once for different units (a model shared in
//     eval mode, its parameters read only, is).
//   * With layout.workers == 1, fn runs on the calling thread and nothing about threads changes.
//     Otherwise each worker runs with layout.threads_per_worker intra-op threads (ATen/OpenMP and
//     OpenBLAS); the caller's own settings are restored before RunUnits returns.
//   * The result of a unit depends on the thread count it ran with (float reductions), not on
//     how many workers there were: a layout with the same threads_per_worker gives bit-identical
//     units on CPU.
//   * Errors: the first failing unit (lowest index among those that ran) is returned; units not
//     yet started are skipped. Exceptions thrown by fn become Internal errors.
#ifndef ROBUSTNESS_BASE_UNIT_WORKERS_H_
#define ROBUSTNESS_BASE_UNIT_WORKERS_H_

#include <cstdint>
#include <functional>

#include "absl/status/status.h"

namespace robustness {

struct WorkerLayout {
  int workers = 1;             // >= 1
  int threads_per_worker = 1;  // >= 1
};

// The layout for `num_units` units on `threads` intra-op threads (>= 1): on CPU as many workers as
// threads (at most one per unit), the threads split evenly between them (remainder unused); on an
// accelerator (cpu == false) one worker, since the device is the bottleneck.
// Examples: (2 threads, 6 units, cpu) -> 2 x 1; (2, 1, cpu) -> 1 x 2; (16, 3, cpu) -> 3 x 5.
WorkerLayout ChooseWorkerLayout(int threads, int64_t num_units, bool cpu);

absl::Status RunUnits(const WorkerLayout& layout, int64_t num_units,
                      const std::function<absl::Status(int64_t unit)>& fn);

}  // namespace robustness

#endif  // ROBUSTNESS_BASE_UNIT_WORKERS_H_
