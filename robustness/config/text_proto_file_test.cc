#include "robustness/config/text_proto_file.h"

#include <string>

#include "glog/logging.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "robustness/base/atomic_file.h"
#include "robustness/base/status_matchers.h"
#include "robustness/proto/attack.pb.h"

namespace robustness {
namespace {

using ::testing::HasSubstr;

std::string WriteTemp(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  CHECK(WriteFileAtomically(path, text).ok());
  return path;
}

TEST(ReadTextProtoFile, ParsesValidFile) {
  const std::string path = WriteTemp("ok.pbtxt", "# a comment\nnorm: LINF\nnum_steps: 10\n");
  auto config = ReadTextProtoFile<proto::PgdConfig>(path);
  ASSERT_THAT(config, IsOk());
  EXPECT_EQ(config->num_steps(), 10);
  EXPECT_EQ(config->norm(), proto::LINF);
}

TEST(ReadTextProtoFile, MisspelledFieldNamesFileLineAndColumn) {
  const std::string path = WriteTemp("typo.pbtxt", "norm: LINF\n  num_stepz: 10\n");
  EXPECT_THAT(ReadTextProtoFile<proto::PgdConfig>(path),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr(path + ":2:12: Message type \"robustness.proto.PgdConfig\" has no "
                                        "field named \"num_stepz\"")));
}

TEST(ReadTextProtoFile, WrongTypeIsAnError) {
  const std::string path = WriteTemp("type.pbtxt", "num_steps: \"ten\"\n");
  EXPECT_THAT(ReadTextProtoFile<proto::PgdConfig>(path),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(path + ":1:12")));
}

TEST(ReadTextProtoFile, MissingFileIsNotFound) {
  EXPECT_THAT(ReadTextProtoFile<proto::PgdConfig>("/nonexistent/config.pbtxt"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/config.pbtxt")));
}

TEST(ToTextProto, RoundTrips) {
  proto::PgdConfig config;
  config.set_num_steps(7);
  config.mutable_step_absolute()->set_over_255(1);
  proto::PgdConfig back;
  ASSERT_THAT(ParseTextProto(ToTextProto(config), "roundtrip", &back), IsOk());
  EXPECT_EQ(back.num_steps(), 7);
  EXPECT_EQ(back.step_absolute().over_255(), 1);
}

}  // namespace
}  // namespace robustness
