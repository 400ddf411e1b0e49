#include "robustness/base/kernel_isa.h"

#include <dlfcn.h>
#include <stdlib.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace robustness {
namespace {

struct Pin {
  const char* variable;
  const char* value;
};
constexpr Pin kPortablePins[] = {
    {"ATEN_CPU_CAPABILITY", "avx2"},
    {"DNNL_MAX_CPU_ISA", "AVX2"},
    {"OPENBLAS_CORETYPE", "Haswell"},
};

std::string EnvOr(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v ? v : fallback;
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "unknown";
}

}  // namespace

bool PortableKernelsRequested() { return EnvOr(kPortableKernelsVariable, "") == "1"; }

bool CpuSupportsPortableKernels() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

bool ApplyPortableKernelEnvironment() {
  if (!PortableKernelsRequested()) return false;
  if (!CpuSupportsPortableKernels()) {
    std::fprintf(stderr,
                 "warning: %s=1 but this CPU lacks AVX2/FMA; the default kernels stay and results "
                 "are not bitwise comparable with other machines\n",
                 kPortableKernelsVariable);
    return false;
  }
  bool changed = false;
  for (const Pin& pin : kPortablePins) {
    const std::string have = EnvOr(pin.variable, "");
    if (have == pin.value) continue;
    if (!have.empty()) {
      std::fprintf(stderr, "note: %s=1 replaces %s=%s by %s\n", kPortableKernelsVariable,
                   pin.variable, have.c_str(), pin.value);
    }
    setenv(pin.variable, pin.value, /*overwrite=*/1);
    changed = true;
  }
  return changed;
}

std::string OpenBlasCoreName() {
  using CoreName = char* (*)();
  if (auto fn = reinterpret_cast<CoreName>(dlsym(RTLD_DEFAULT, "openblas_get_corename"))) {
    if (const char* name = fn(); name != nullptr) return name;
  }
  return "";
}

bool ApplyOpenBlasCoreFallbackFix() {
  if (PortableKernelsRequested() || std::getenv("OPENBLAS_CORETYPE") != nullptr) return false;
  if (OpenBlasCoreName() != "Prescott" || !CpuSupportsPortableKernels()) return false;
  const char* core = "Haswell";
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512cd")) {
    core = __builtin_cpu_supports("avx512bf16") ? "Cooperlake" : "SkylakeX";
  }
  setenv("OPENBLAS_CORETYPE", core, /*overwrite=*/0);
  return true;
}

std::string DescribeKernels() {
  __builtin_cpu_init();
  std::vector<std::string> isa;
  if (__builtin_cpu_supports("avx512f")) isa.push_back("avx512f");
  if (__builtin_cpu_supports("avx2")) isa.push_back("avx2");
  if (__builtin_cpu_supports("fma")) isa.push_back("fma");
  std::string isa_list;
  for (const std::string& s : isa) isa_list += (isa_list.empty() ? "" : ",") + s;
  // OpenBLAS reports the kernels it chose; ask the loaded library, if it is OpenBLAS.
  std::string openblas = OpenBlasCoreName();
  if (openblas.empty()) openblas = "not OpenBLAS";
  return "cpu=" + CpuModel() + "; isa=" + (isa_list.empty() ? "none" : isa_list) +
         "; aten=" + EnvOr("ATEN_CPU_CAPABILITY", "auto") +
         "; dnnl_max_isa=" + EnvOr("DNNL_MAX_CPU_ISA", "auto") + "; openblas=" + openblas +
         "; portable=" + (PortableKernelsRequested() && CpuSupportsPortableKernels() ? "yes" : "no");
}

}  // namespace robustness
