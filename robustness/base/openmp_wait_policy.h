// Makes idle OpenMP threads sleep instead of spin (OMP_WAIT_POLICY=PASSIVE) in every binary.
//
// Why: LibTorch runs convolutions and elementwise ops on an OpenMP team (libgomp) and matrix
// products on OpenBLAS's own pthreads (Debian's libopenblas0-pthread). With libgomp's default
// wait policy, the OpenMP threads keep spinning for a while after each parallel region, on the
// very cores OpenBLAS's threads then need. On this project's 2-core machine that halves the
// throughput of the transformers, whose time is mostly matrix products: measured with
// robustness/models:model_benchmark, Fashion-MNIST DeiT forward+backward at batch 128 goes from
// 446 to 1102 images/s, DeiT-S forward at 224 px batch 64 from 10.4 to 11.5, and the CNNs stay
// within noise (README "Speed"). Numerics do not change: only how idle threads wait.
//
// libgomp reads OMP_WAIT_POLICY once, when the library is loaded, before main() runs, and has no
// API to change it later. So the setting can only take effect in a process started with it:
// EnsurePassiveOpenMpWait re-executes the running binary (/proc/self/exe, same argv) with
// OMP_WAIT_POLICY=PASSIVE added to the environment. A value the user set (e.g. ACTIVE, to
// compare) is respected and nothing happens.
//
// Mains do not call it directly: PrepareTensorProcess (process_setup.h), first thing in main(),
// before any thread or file is created, calls it.
// On the rare failure of the re-exec (no /proc), it logs a warning to stderr and returns, and
// the program runs on with the default policy.
#ifndef ROBUSTNESS_BASE_OPENMP_WAIT_POLICY_H_
#define ROBUSTNESS_BASE_OPENMP_WAIT_POLICY_H_

namespace robustness {

// The environment variable and the value set.
inline constexpr char kOpenMpWaitPolicyVariable[] = "OMP_WAIT_POLICY";
inline constexpr char kOpenMpPassiveWaitPolicy[] = "PASSIVE";

// Returns only if OMP_WAIT_POLICY was already set (any value) or the re-exec failed; otherwise
// the process image is replaced and the call does not return. `argv` is main()'s argv
// (null-terminated).
void EnsurePassiveOpenMpWait(char** argv);

}  // namespace robustness

#endif  // ROBUSTNESS_BASE_OPENMP_WAIT_POLICY_H_
