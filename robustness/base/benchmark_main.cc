// main() of every Google Benchmark binary in the project: BENCHMARK_MAIN's steps, after the
// process settings every binary of the project applies (process_setup.h: sleeping OpenMP waits,
// malloc reuse; tools/side_by_side applies the same to the Python twins, so comparisons stay
// fair).
#include <benchmark/benchmark.h>

#include "robustness/base/process_setup.h"

int main(int argc, char** argv) {
  robustness::PrepareTensorProcess(argv);  // sleeping OpenMP waits, malloc reuse: process_setup.h
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
