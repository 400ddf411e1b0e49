// The first call in every main() of the project: the process-wide settings a LibTorch program
// needs to run at full speed on the CPU, in one place, so a new experiment binary cannot forget
// one of them.
//
//   int main(int argc, char** argv) {
//     robustness::PrepareTensorProcess(argv);
//     ...
//
// In order:
//   0. ApplyPortableKernelEnvironment (kernel_isa.h): with ROBUSTNESS_PORTABLE_KERNELS=1, pins
//      ATen, oneDNN and OpenBLAS to their AVX2 kernels (bitwise-equal results across x86-64 CPUs,
//      for CI regression); off by default. ApplyOpenBlasCoreFallbackFix (kernel_isa.h): where
//      OpenBLAS does not know the CPU and falls back to SSE3 kernels, gives it the AVX2/AVX-512
//      kernels the CPU has (~3-4x GEMM on this project's Intel VMs; other numbers in the last
//      bits, like any change of kernels).
//   1. EnsurePassiveOpenMpWait (openmp_wait_policy.h): idle OpenMP threads sleep; re-executes the
//      binary once with OMP_WAIT_POLICY=PASSIVE unless the user set a value (~2x on
//      transformers with 2 cores).
//   2. UseTensorFriendlyMalloc (malloc_policy.h): glibc keeps freed tensor memory for the next
//      step instead of page-faulting it in again (up to ~5x on small models on this project's
//      virtual machines).
// Steps 1 and 2 change no number. A user's own OMP_WAIT_POLICY, MALLOC_* or GLIBC_TUNABLES wins.
#ifndef ROBUSTNESS_BASE_PROCESS_SETUP_H_
#define ROBUSTNESS_BASE_PROCESS_SETUP_H_

namespace robustness {

// `argv` is main()'s argv (null-terminated); call before any thread, file or tensor is created.
// May not return (the re-exec of step 1); returns once the process runs with both settings, or
// with the defaults after a warning on stderr if one could not be applied.
void PrepareTensorProcess(char** argv);

}  // namespace robustness

#endif  // ROBUSTNESS_BASE_PROCESS_SETUP_H_
