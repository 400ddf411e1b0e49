// main() of every Google Benchmark binary in the project: BENCHMARK_MAIN's steps, after making
// idle OpenMP threads sleep as every binary of the project does (openmp_wait_policy.h;
// tools/side_by_side sets the same for the Python twins, so comparisons stay fair).
#include <benchmark/benchmark.h>

#include "robustness/base/malloc_policy.h"
#include "robustness/base/openmp_wait_policy.h"

int main(int argc, char** argv) {
  robustness::EnsurePassiveOpenMpWait(argv);
  robustness::UseTensorFriendlyMalloc();  // reuse freed tensor memory; see malloc_policy.h
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
