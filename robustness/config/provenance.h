// What produced a result, recorded before the first step of every run.
//
// WriteRunHeader writes two files into the output folder, atomically:
//   resolved_config.pbtxt: the config exactly as the run understood it (every field set);
//   provenance.pbtxt: git commit (+dirty), LibTorch version, intra-op threads, the BLAS library
//     behind libblas.so.3, device, seed, config path and SHA-256, the pinned Debian packages'
//     installed versions, host and UTC start time, the command line.
// Two result folders with the same config_sha256, commit and packages should hold the same
// numbers on CPU.
#ifndef ROBUSTNESS_CONFIG_PROVENANCE_H_
#define ROBUSTNESS_CONFIG_PROVENANCE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/message.h"
#include "robustness/proto/provenance.pb.h"

namespace robustness {

struct RunIdentity {
  std::string binary;        // e.g. "table1_vanilla_robustness"
  std::string command_line;  // argv joined by spaces
  std::string config_path;
  int64_t seed = 0;
  std::string device;        // "cpu", "cuda:0"
};

// Gathers the provenance of the current process. Never fails: facts that cannot be read (no git
// checkout, no dpkg) are recorded as "unknown".
proto::Provenance CollectProvenance(const RunIdentity& run,
                                    const google::protobuf::Message& resolved_config);

// Creates `output_dir` if needed (error if not writable) and writes resolved_config.pbtxt and
// provenance.pbtxt there. Returns the provenance written.
absl::StatusOr<proto::Provenance> WriteRunHeader(const std::string& output_dir,
                                                 const RunIdentity& run,
                                                 const google::protobuf::Message& resolved_config);

}  // namespace robustness

#endif  // ROBUSTNESS_CONFIG_PROVENANCE_H_
