// bazel run //tools/weights -- inspect --weights=x.pth [--key=model_ema]
// bazel run //tools/weights -- check --model_config=m.pbtxt --weights=x.pth [--key=...]
//                                   (or --checkpoint=ckpt.pt instead of --weights)
// bazel run //tools/weights -- export --model_config=m.pbtxt --checkpoint=ckpt.pt --output=m.pth
//
// PyTorch weight interop (tools/weights/README.md, weights_tool.h). Relative paths are taken from
// the shell's folder. Exit status: 0 done, 1 error or mismatch, 2 usage error.
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "robustness/base/process_setup.h"
#include "robustness/base/torch_status.h"
#include "tools/weights/weights_tool.h"

ABSL_FLAG(std::string, weights, "",
          "A torch.save file (.pth/.pt): a state dict or a checkpoint wrapping one.");
ABSL_FLAG(std::string, key, "",
          "The checkpoint entry holding the state dict (e.g. model_ema). Default: the file's top "
          "level if it is a state dict, else the first of state_dict, model, model_ema, "
          "state_dict_ema.");
ABSL_FLAG(std::string, model_config, "",
          "A text-format robustness.proto.ModelConfig with every field set.");
ABSL_FLAG(std::string, checkpoint, "",
          "A training checkpoint written by this project (robustness/training/checkpoint.h).");
ABSL_FLAG(std::string, output, "", "Where export writes the state dict (.pth).");

namespace {

constexpr char kUsage[] =
    "PyTorch weight files: inspect, check against a model config, export a trained model.\n"
    "  weights inspect --weights=x.pth [--key=K]\n"
    "  weights check --model_config=m.pbtxt --weights=x.pth [--key=K]\n"
    "  weights check --model_config=m.pbtxt --checkpoint=ckpt.pt\n"
    "  weights export --model_config=m.pbtxt --checkpoint=ckpt.pt --output=model.pth";

// The flag values a command needs, resolved; prints what is missing.
bool Required(const std::vector<std::pair<const char*, std::string>>& flags) {
  bool ok = true;
  for (const auto& [name, value] : flags) {
    if (value.empty()) {
      std::fprintf(stderr, "error: --%s is required for this command\n", name);
      ok = false;
    }
  }
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  robustness::PrepareTensorProcess(argv);  // sleeping OpenMP waits, malloc reuse: process_setup.h
  absl::SetProgramUsageMessage(kUsage);
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 2) {
    std::fprintf(stderr, "usage:\n%s\n", kUsage);
    return 2;
  }
  using robustness::tools::ResolveUserPath;
  const std::string command = args[1];
  const std::string weights = ResolveUserPath(absl::GetFlag(FLAGS_weights));
  const std::string model_config = ResolveUserPath(absl::GetFlag(FLAGS_model_config));
  const std::string checkpoint = ResolveUserPath(absl::GetFlag(FLAGS_checkpoint));
  const std::string output = ResolveUserPath(absl::GetFlag(FLAGS_output));
  const std::string key = absl::GetFlag(FLAGS_key);
  absl::Status status;
  try {
    if (command == "inspect") {
      if (!Required({{"weights", weights}})) return 2;
      status = robustness::tools::RunInspect(weights, key, std::cout);
    } else if (command == "check") {
      if (!Required({{"model_config", model_config}})) return 2;
      if (weights.empty() == checkpoint.empty()) {
        std::fprintf(stderr, "error: check needs exactly one of --weights and --checkpoint\n");
        return 2;
      }
      status = robustness::tools::RunCheck(model_config, weights, checkpoint, key, std::cout);
    } else if (command == "export") {
      if (!Required(
              {{"model_config", model_config}, {"checkpoint", checkpoint}, {"output", output}})) {
        return 2;
      }
      status = robustness::tools::RunExport(model_config, checkpoint, output, std::cout);
    } else {
      std::fprintf(stderr, "error: unknown command '%s'\nusage:\n%s\n", command.c_str(), kUsage);
      return 2;
    }
  } catch (const std::exception& e) {
    status = absl::InternalError(robustness::ExceptionSummary(e));
  }
  std::cout.flush();
  if (!status.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(status.message()).c_str());
    return 1;
  }
  return 0;
}
