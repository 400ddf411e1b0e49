#include "robustness/config/provenance.h"

#include <ATen/Parallel.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/atomic_file.h"
#include "robustness/base/sha256.h"
#include "robustness/base/status_matchers.h"
#include "robustness/config/parse_text_proto.h"
#include "robustness/config/text_proto_file.h"
#include "robustness/proto/attack.pb.h"

namespace robustness {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(WriteRunHeader, WritesResolvedConfigAndProvenance) {
  at::set_num_threads(2);
  auto config = ParseTextProtoOrDie<proto::PgdConfig>("num_steps: 3 norm: LINF");
  const std::string dir = ::testing::TempDir() + "/run_header";
  RunIdentity run{"test_binary", "test_binary --config=x", "x.pbtxt", 17, "cpu"};
  auto provenance = WriteRunHeader(dir, run, config);
  ASSERT_THAT(provenance, IsOk());
  EXPECT_EQ(provenance->seed(), 17);
  EXPECT_EQ(provenance->intra_op_threads(), 2);
  // Debian 1.13.1+dfsg ships a torch/version.h that says 1.13.0; the package version is recorded
  // separately in `packages`.
  EXPECT_THAT(provenance->libtorch_version(), StartsWith("1.13."));
  EXPECT_EQ(provenance->config_sha256(), Sha256Hex(ToTextProto(config)));
  EXPECT_THAT(provenance->packages(0), StartsWith("libtorch-dev="));

  auto back = ReadTextProtoFile<proto::PgdConfig>(dir + "/resolved_config.pbtxt");
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(back->num_steps(), 3);
  auto written = ReadFileToString(dir + "/provenance.pbtxt");
  ASSERT_THAT(written, IsOk());
  EXPECT_THAT(*written, HasSubstr("binary: \"test_binary\""));
}

TEST(WriteRunHeader, UnwritableFolderIsAnError) {
  const std::string file = ::testing::TempDir() + "/not_a_folder";
  ASSERT_THAT(WriteFileAtomically(file, "x"), IsOk());
  proto::PgdConfig config;
  EXPECT_THAT(WriteRunHeader(file + "/out", RunIdentity{}, config),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr(file + "/out")));
}

}  // namespace
}  // namespace robustness
