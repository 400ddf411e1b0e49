#include "robustness/base/kernel_isa.h"

#include <stdlib.h>

#include <string>

#include <gtest/gtest.h>

namespace robustness {
namespace {

TEST(KernelIsa, NotRequestedLeavesTheEnvironmentAlone) {
  unsetenv(kPortableKernelsVariable);
  unsetenv("DNNL_MAX_CPU_ISA");
  EXPECT_FALSE(ApplyPortableKernelEnvironment());
  EXPECT_EQ(std::getenv("DNNL_MAX_CPU_ISA"), nullptr);
  EXPECT_NE(DescribeKernels().find("portable=no"), std::string::npos);
}

TEST(KernelIsa, RequestedPinsAllThreeOnceAndReportsIt) {
  if (!CpuSupportsPortableKernels()) GTEST_SKIP() << "no AVX2/FMA on this CPU";
  setenv(kPortableKernelsVariable, "1", 1);
  setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
  EXPECT_TRUE(ApplyPortableKernelEnvironment());
  EXPECT_STREQ(std::getenv("ATEN_CPU_CAPABILITY"), "avx2");
  EXPECT_STREQ(std::getenv("DNNL_MAX_CPU_ISA"), "AVX2");
  EXPECT_STREQ(std::getenv("OPENBLAS_CORETYPE"), "Haswell");
  EXPECT_FALSE(ApplyPortableKernelEnvironment()) << "second call must not ask for a re-exec";
  const std::string description = DescribeKernels();
  EXPECT_NE(description.find("aten=avx2; dnnl_max_isa=AVX2"), std::string::npos) << description;
  EXPECT_NE(description.find("portable=yes"), std::string::npos) << description;
}

}  // namespace
}  // namespace robustness

namespace robustness {
namespace {

TEST(KernelIsa, OpenBlasFallbackFixLeavesUserValuesAndOtherBlasAlone) {
  unsetenv(kPortableKernelsVariable);
  setenv("OPENBLAS_CORETYPE", "Zen", 1);
  EXPECT_FALSE(ApplyOpenBlasCoreFallbackFix());
  EXPECT_STREQ(std::getenv("OPENBLAS_CORETYPE"), "Zen");
  unsetenv("OPENBLAS_CORETYPE");
  // This test does not load OpenBLAS, so there is no Prescott fallback to fix.
  EXPECT_EQ(OpenBlasCoreName(), "");
  EXPECT_FALSE(ApplyOpenBlasCoreFallbackFix());
  EXPECT_EQ(std::getenv("OPENBLAS_CORETYPE"), nullptr);
  setenv(kPortableKernelsVariable, "1", 1);
  EXPECT_FALSE(ApplyOpenBlasCoreFallbackFix());
  unsetenv(kPortableKernelsVariable);
}

}  // namespace
}  // namespace robustness
