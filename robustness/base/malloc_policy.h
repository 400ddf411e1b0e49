// Makes glibc's malloc keep freed tensor memory for reuse instead of handing it back to the OS.
//
// Why: LibTorch allocates every CPU tensor with plain malloc. glibc serves blocks above its mmap
// threshold (128 KiB at start, raised dynamically up to 32 MiB as such blocks are freed) with a
// fresh mmap, and gives the top of the heap back to the OS once more than the trim threshold is
// free there. A training or attack step frees most of its activations at the end, so the next
// step touches all that memory anew, one page fault per 4 KiB page. On this project's machine
// kind (a 2-core virtual machine where a page fault costs much more than on bare metal), that was
// most of the time of the small models. PGD-10 on batch 128 of 28 px images,
// robustness/attacks:pgd_benchmark, 2026-11-29, 2-core AMD EPYC, attacked images/s:
//   default malloc                                toy CNN 121, ResNet-18 w16  85, DeiT 67
//   MALLOC_MMAP_THRESHOLD_=32 MiB, _TRIM_=4 GiB   toy CNN 693, ResNet-18 w16 154, DeiT 87
//   this function (compare.py, two runs)          toy CNN 573-606, ResNet 139-151, DeiT 77-81
// and the plain PyTorch twins (tools/side_by_side) moved the same way under the same settings.
// Numerics do not change: only where the bytes come from.
//
// UseTensorFriendlyMalloc() sets, with mallopt(), the mmap threshold to 32 MiB (glibc's upper
// limit for it; larger blocks are still mapped and unmapped each time) and the trim threshold to
// 2 GiB - 1 (mallopt takes an int), so freed blocks below 32 MiB stay in the heap for the next
// step. The cost: the process keeps its peak heap size until it exits, which is what a training
// run needs anyway. Setting either threshold also switches off glibc's dynamic adjustment, so the
// values stay fixed.
//
// A user who set MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_ or GLIBC_TUNABLES keeps their
// choice: nothing is changed then. Mains do not call it directly: PrepareTensorProcess
// (process_setup.h) does, first thing, before tensors are allocated.
#ifndef ROBUSTNESS_BASE_MALLOC_POLICY_H_
#define ROBUSTNESS_BASE_MALLOC_POLICY_H_

#include <cstddef>

namespace robustness {

inline constexpr size_t kTensorMmapThresholdBytes = size_t{32} << 20;        // 32 MiB.
inline constexpr size_t kTensorTrimThresholdBytes = (size_t{2} << 30) - 1;  // INT_MAX.

// Returns true if both thresholds were set; false if the user's environment already chooses
// (see above) or mallopt refused, in which case a warning goes to stderr and malloc keeps its
// defaults.
bool UseTensorFriendlyMalloc();

}  // namespace robustness

#endif  // ROBUSTNESS_BASE_MALLOC_POLICY_H_
