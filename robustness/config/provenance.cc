#include "robustness/config/provenance.h"

#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>

#include <ATen/Parallel.h>
#include <torch/version.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "robustness/base/atomic_file.h"
#include "robustness/base/kernel_isa.h"
#include "robustness/base/sha256.h"
#include "robustness/base/status_macros.h"
#include "robustness/config/text_proto_file.h"

namespace robustness {
namespace {

// The packages whose versions decide the numbers (tools/setup.sh pins them all).
constexpr const char* kPackages[] = {"libtorch-dev", "libopenblas0-pthread", "libprotobuf-dev",
                                     "libabsl-dev", "dataset-fashion-mnist", "bazel-bootstrap"};

std::string RunCommand(const std::string& command) {
  std::string out;
  std::FILE* pipe = ::popen((command + " 2>/dev/null").c_str(), "r");
  if (pipe == nullptr) return "";
  std::array<char, 256> buffer;
  while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) out += buffer.data();
  ::pclose(pipe);
  return std::string(absl::StripAsciiWhitespace(out));
}

std::string GitCommit() {
  // `bazel run` starts binaries in the runfiles tree; BUILD_WORKSPACE_DIRECTORY is the checkout.
  const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
  const std::string dir = workspace != nullptr ? workspace : ".";
  const std::string git = absl::StrCat("git -C '", dir, "' ");
  std::string commit = RunCommand(git + "rev-parse HEAD");
  if (commit.empty()) return "unknown";
  if (!RunCommand(git + "status --porcelain --untracked-files=no").empty()) {
    absl::StrAppend(&commit, "+dirty");
  }
  return commit;
}

std::string UtcNow() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

std::string BlasLibrary() {
  std::error_code ec;
  auto target = std::filesystem::canonical("/etc/alternatives/libblas.so.3-x86_64-linux-gnu", ec);
  return ec ? "unknown" : target.string();
}

}  // namespace

proto::Provenance CollectProvenance(const RunIdentity& run,
                                    const google::protobuf::Message& resolved_config) {
  proto::Provenance p;
  p.set_binary(run.binary);
  p.set_command_line(run.command_line);
  p.set_git_commit(GitCommit());
  p.set_start_time_utc(UtcNow());
  char host[256] = {0};
  p.set_hostname(::gethostname(host, sizeof(host) - 1) == 0 ? host : "unknown");
  p.set_libtorch_version(TORCH_VERSION);
  p.set_intra_op_threads(at::get_num_threads());
  p.set_blas(BlasLibrary());
  p.set_kernel_isa(DescribeKernels());
  p.set_device(run.device);
  p.set_seed(run.seed);
  p.set_config_path(run.config_path);
  p.set_config_sha256(Sha256Hex(ToTextProto(resolved_config)));
  for (const char* package : kPackages) {
    std::string version = RunCommand(absl::StrCat("dpkg-query -W -f='${Version}' ", package));
    p.add_packages(absl::StrCat(package, "=", version.empty() ? "unknown" : version));
  }
  return p;
}

absl::StatusOr<proto::Provenance> WriteRunHeader(const std::string& output_dir,
                                                 const RunIdentity& run,
                                                 const google::protobuf::Message& resolved_config) {
  RETURN_IF_ERROR(EnsureWritableDirectory(output_dir));
  proto::Provenance provenance = CollectProvenance(run, resolved_config);
  RETURN_IF_ERROR(WriteFileAtomically(output_dir + "/resolved_config.pbtxt",
                                      ToTextProto(resolved_config)));
  RETURN_IF_ERROR(WriteFileAtomically(output_dir + "/provenance.pbtxt", ToTextProto(provenance)));
  return provenance;
}

}  // namespace robustness
