// Which CPU kernels compute the numbers, and the switch that makes them the same on every x86-64
// machine with AVX2 (Intel or AMD, AVX2 or AVX-512): the CI regression policy (tests/README.md).
//
// LibTorch picks its kernels per CPU at run time: ATen's vectorised loops (ATEN_CPU_CAPABILITY:
// default / avx2 / avx512), oneDNN's convolutions (DNNL_MAX_CPU_ISA caps its ISA) and OpenBLAS's
// GEMM (OPENBLAS_CORETYPE picks its kernels and blocking). Different kernels sum in different
// orders, so the same config and seed give different last bits on different CPUs, which a few
// epochs of training amplify into different accuracies (measured: tests/README.md).
//
// ROBUSTNESS_PORTABLE_KERNELS=1 pins all three to AVX2 (ATEN_CPU_CAPABILITY=avx2,
// DNNL_MAX_CPU_ISA=AVX2, OPENBLAS_CORETYPE=Haswell): every AVX2+FMA CPU then runs the same
// kernels and, with the same thread count, computes the same bits. It is for regression runs;
// users' runs keep the fastest kernels by default. OPENBLAS_CORETYPE is read when the library is
// loaded, so the pin takes effect through the one re-exec of PrepareTensorProcess.
#ifndef ROBUSTNESS_BASE_KERNEL_ISA_H_
#define ROBUSTNESS_BASE_KERNEL_ISA_H_

#include <string>

namespace robustness {

inline constexpr char kPortableKernelsVariable[] = "ROBUSTNESS_PORTABLE_KERNELS";

// True when ROBUSTNESS_PORTABLE_KERNELS=1.
bool PortableKernelsRequested();

// True when this CPU has AVX2 and FMA, the ISA the portable kernels need.
bool CpuSupportsPortableKernels();

// When portable kernels are requested and supported, sets the three variables above (a value the
// user set is overwritten, with a note on stderr). Returns true when the environment changed, so
// the process must re-execute for OpenBLAS to see it. Requested but unsupported: a warning, and
// the default kernels stay (the regression test then uses its fallback tolerance).
bool ApplyPortableKernelEnvironment();

// OpenBLAS 0.3.21 falls back to its `Prescott` (SSE3) kernels on a CPU model it does not know,
// which is what this project's Intel VMs report: GEMM at a quarter of the speed its AVX-512
// kernels reach there (measured: 61 vs. 204-234 GFLOP/s, README "Speed"). When
// OPENBLAS_CORETYPE is unset and the loaded OpenBLAS reports Prescott on a CPU with AVX2/FMA,
// this sets OPENBLAS_CORETYPE to the kernels the CPU can run (Cooperlake with AVX512-BF16,
// SkylakeX with AVX512 F/BW/DQ/VL/CD, else Haswell) and returns true (re-exec needed). A
// recognised CPU, a value the user set, and ROBUSTNESS_PORTABLE_KERNELS=1 are left alone.
bool ApplyOpenBlasCoreFallbackFix();

// The OpenBLAS core in use ("Haswell", "SkylakeX", ...), or "" if the BLAS is not OpenBLAS.
std::string OpenBlasCoreName();

// One line for provenance, e.g. "cpu=Intel(R) Xeon(R) Processor; isa=avx512f,avx2,fma;
// aten=avx2; dnnl_max_isa=AVX2; openblas=Haswell; portable=yes".
std::string DescribeKernels();

}  // namespace robustness

#endif  // ROBUSTNESS_BASE_KERNEL_ISA_H_
