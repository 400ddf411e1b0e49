#include "robustness/training/checkpoint.h"

#include <filesystem>
#include <utility>
#include <vector>

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "robustness/base/atomic_file.h"
#include "robustness/base/torch_status.h"

namespace robustness {
namespace {

// Every parameter and buffer of `model` with its shape, in module order.
std::vector<std::pair<std::string, std::vector<int64_t>>> TensorShapes(
    const torch::nn::Module& model) {
  std::vector<std::pair<std::string, std::vector<int64_t>>> shapes;
  for (const auto& item : model.named_parameters(/*recurse=*/true)) {
    shapes.emplace_back(item.key(), item.value().sizes().vec());
  }
  for (const auto& item : model.named_buffers(/*recurse=*/true)) {
    shapes.emplace_back(item.key(), item.value().sizes().vec());
  }
  return shapes;
}

}  // namespace

absl::Status SaveCheckpoint(const std::string& path, torch::nn::Module& model,
                            torch::optim::Optimizer& optimizer, const CheckpointState& state) {
  return WriteFileAtomicallyWith(path, [&](const std::string& temp) {
    return CallTorch(absl::StrCat("cannot write checkpoint '", temp, "'"), [&] {
      torch::serialize::OutputArchive archive;
      torch::serialize::OutputArchive model_archive, optimizer_archive;
      model.save(model_archive);
      optimizer.save(optimizer_archive);
      archive.write("model", model_archive);
      archive.write("optimizer", optimizer_archive);
      archive.write("epochs_done", torch::tensor(state.epochs_done, torch::kInt64));
      archive.write("epoch_log", state.epoch_log.defined()
                                     ? state.epoch_log
                                     : torch::zeros({0, 0}, torch::kFloat64));
      archive.write("fingerprint", c10::IValue(state.fingerprint));
      archive.write("ema_count", torch::tensor(static_cast<int64_t>(state.ema.size())));
      for (size_t i = 0; i < state.ema.size(); ++i) {
        archive.write(absl::StrCat("ema_", i), state.ema[i]);
      }
      archive.save_to(temp);
      return absl::OkStatus();
    });
  });
}

absl::StatusOr<CheckpointState> LoadCheckpoint(const std::string& path,
                                               const std::string& expected_fingerprint,
                                               torch::nn::Module& model,
                                               torch::optim::Optimizer& optimizer) {
  if (!std::filesystem::exists(path)) {
    return absl::NotFoundError(absl::StrCat("no checkpoint at '", path, "'"));
  }
  CheckpointState state;
  torch::serialize::InputArchive archive;
  absl::Status status = CallTorch(
      absl::StrCat("checkpoint '", path, "' is corrupt or not a checkpoint"),
      [&] {
        archive.load_from(path);
        c10::IValue fingerprint;
        archive.read("fingerprint", fingerprint);
        state.fingerprint = fingerprint.toStringRef();
        return absl::OkStatus();
      },
      absl::StatusCode::kDataLoss);
  if (!status.ok()) return status;
  if (state.fingerprint != expected_fingerprint) {
    return absl::FailedPreconditionError(absl::StrCat(
        "checkpoint '", path, "' was written by a different config (fingerprint ",
        state.fingerprint.substr(0, 12), ", this config ", expected_fingerprint.substr(0, 12),
        "); use another --output_dir or delete the checkpoint"));
  }
  status = CallTorch(
      absl::StrCat("checkpoint '", path, "' does not match the model or optimiser"),
      [&] {
        torch::serialize::InputArchive model_archive, optimizer_archive;
        archive.read("model", model_archive);
        archive.read("optimizer", optimizer_archive);
        // LibTorch's Module::load replaces a tensor of another shape without complaint; only
        // the fingerprint check above would otherwise catch a model that differs from the one
        // that wrote the checkpoint.
        const auto shapes_before = TensorShapes(model);
        model.load(model_archive);
        const auto shapes_after = TensorShapes(model);
        for (size_t i = 0; i < shapes_before.size(); ++i) {
          if (shapes_before[i].second != shapes_after[i].second) {
            return absl::DataLossError(absl::StrCat(
                "checkpoint '", path, "' holds ", shapes_before[i].first, " with shape [",
                absl::StrJoin(shapes_after[i].second, ", "), "], the model has [",
                absl::StrJoin(shapes_before[i].second, ", "), "]"));
          }
        }
        optimizer.load(optimizer_archive);
        torch::Tensor epochs;
        archive.read("epochs_done", epochs);
        state.epochs_done = epochs.item<int64_t>();
        archive.read("epoch_log", state.epoch_log);
        torch::Tensor ema_count;
        if (archive.try_read("ema_count", ema_count)) {
          for (int64_t i = 0; i < ema_count.item<int64_t>(); ++i) {
            torch::Tensor t;
            archive.read(absl::StrCat("ema_", i), t);
            state.ema.push_back(t);
          }
        }
        return absl::OkStatus();
      },
      absl::StatusCode::kDataLoss);
  if (!status.ok()) return status;
  return state;
}

}  // namespace robustness
