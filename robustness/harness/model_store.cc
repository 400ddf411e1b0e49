#include "robustness/harness/model_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <utility>

#include <ATen/ATen.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "robustness/base/atomic_file.h"
#include "robustness/base/seed.h"
#include "robustness/base/sha256.h"
#include "robustness/base/status_macros.h"
#include "robustness/config/provenance.h"
#include "robustness/config/text_proto_file.h"
#include "robustness/distributed/world.h"
#include "robustness/models/model_factory.h"
#include "robustness/training/distillation.h"
#include "robustness/weights/module_state_dict.h"

namespace robustness {
namespace {

namespace fs = std::filesystem;

constexpr char kSpecFile[] = "spec.pbtxt";
constexpr char kCheckpointFile[] = "checkpoint.pt";
constexpr char kLogFile[] = "training_log.jsonl";
constexpr char kProvenanceFile[] = "provenance.pbtxt";
constexpr char kLockFile[] = "LOCK";
constexpr size_t kFolderDigits = 16;

// "ResNet-18/4 (CNN recipe)" -> "resnet-18_4_cnn_recipe"
std::string Slug(const std::string& label) {
  std::string out;
  for (char c : label) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-') {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!out.empty() && out.back() != '_') {
      out += '_';
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out.empty() ? "model" : out.substr(0, 80);
}

// Holds flock(2) on a folder's LOCK file for its lifetime; the kernel drops it when the process
// dies, so a SIGKILLed run never leaves a stale lock.
class FolderLock {
 public:
  static absl::StatusOr<std::unique_ptr<FolderLock>> Acquire(const std::string& dir) {
    const std::string path = dir + "/" + kLockFile;
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot create lock file ", path, ": ", std::strerror(errno)));
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      char pid[32] = {0};
      (void)!::pread(fd, pid, sizeof(pid) - 1, 0);
      ::close(fd);
      if (err == EWOULDBLOCK) {
        return absl::FailedPreconditionError(absl::StrCat(
            "model folder ", dir, " is in use by another process (pid ",
            std::string(absl::StripAsciiWhitespace(pid)),
            "): it is training or evaluating this model now; run again when it has finished"));
      }
      return absl::InternalError(absl::StrCat("cannot lock ", path, ": ", std::strerror(err)));
    }
    const std::string me = absl::StrCat(::getpid(), "\n");
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, me.data(), me.size(), 0) < 0) {
      // The pid is only for the "in use" message; the lock itself holds.
    }
    return std::unique_ptr<FolderLock>(new FolderLock(fd));
  }
  ~FolderLock() { ::close(fd_); }  // closing releases the flock

 private:
  explicit FolderLock(int fd) : fd_(fd) {}
  int fd_;
};

std::string LogLines(const std::vector<EpochLog>& epochs) {
  std::string out;
  for (const EpochLog& e : epochs) {
    absl::StrAppendFormat(&out,
                          "{\"epoch\": %d, \"learning_rate\": %.17g, \"train_loss\": %.17g, "
                          "\"train_accuracy\": %.17g, \"seconds\": %.3f, "
                          "\"images_per_second\": %.1f}\n",
                          e.epoch + 1, e.learning_rate, e.train_loss, e.train_accuracy, e.seconds,
                          e.images_per_second);
  }
  return out;
}

int CountLines(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFileToString(path);
  if (!text.ok()) return 0;
  int n = 0;
  for (char c : *text) n += c == '\n';
  return n;
}

// The distillation teacher of `request`, in eval mode on options.device: a stored one from
// options.teacher_store_root (trained there first when missing), or an imported architecture
// with its weights file.
absl::StatusOr<ImageClassifier> ObtainTeacher(const ModelRequest& request,
                                              std::shared_ptr<const Dataset> train,
                                              const ObtainOptions& options) {
  const proto::DistillationConfig& distillation = request.run.distillation();
  RETURN_IF_ERROR(ValidateDistillationConfig(distillation, request.run.model().num_classes()));
  if (distillation.has_stored()) {
    if (options.teacher_store_root.empty()) {
      return absl::InvalidArgumentError(
          "distillation.stored: a stored teacher needs a model store (--store_root)");
    }
    ASSIGN_OR_RETURN(ModelStore store, ModelStore::Open(options.teacher_store_root));
    ModelRequest teacher_request{distillation.stored().label().empty()
                                     ? request.name + " teacher"
                                     : distillation.stored().label(),
                                 distillation.stored(), request.train_data, request.runtime};
    ObtainOptions teacher_options = options;
    teacher_options.stop_after_epochs = -1;
    absl::StatusOr<StoredModel> stored = store.Obtain(teacher_request, train, teacher_options);
    if (!stored.ok()) {
      return absl::Status(stored.status().code(), absl::StrCat("distillation teacher: ",
                                                               stored.status().message()));
    }
    std::fprintf(stderr, "[store] teacher of %s: %s\n", request.name.c_str(), stored->dir.c_str());
    return stored->model;
  }
  ASSIGN_OR_RETURN(ImageClassifier model, CreateModel(distillation.imported().model()));
  absl::StatusOr<StateDictFile> loaded =
      LoadWeightsFile(distillation.imported().weights(), *model);
  if (!loaded.ok()) {
    return absl::Status(loaded.status().code(),
                        absl::StrCat("distillation.imported.weights ",
                                     distillation.imported().weights(), ": ",
                                     loaded.status().message()));
  }
  model->to(options.device);
  model->eval();
  return model;
}

absl::StatusOr<StoredModel> ObtainInFolder(const std::string& dir, const ModelRequest& request,
                                           const proto::TrainedModelSpec& spec,
                                           const std::string& fingerprint,
                                           std::shared_ptr<const Dataset> train,
                                           const ObtainOptions& options) {
  // Data parallelism (robustness/distributed/world.h): rank 0 owns the folder (lock, spec,
  // provenance, log, checkpoint); the other ranks wait for it, then read the same files.
  ASSIGN_OR_RETURN(std::shared_ptr<World> world, CurrentWorld());
  const bool owner = world->is_main();
  const std::string spec_text =
      absl::StrCat("# Model store spec. fingerprint: ", fingerprint, "\n", CanonicalSpecText(spec));
  const std::string spec_path = dir + "/" + kSpecFile;
  std::unique_ptr<FolderLock> lock;
  absl::Status prepared = absl::OkStatus();
  if (owner) {
    prepared = [&]() -> absl::Status {
      RETURN_IF_ERROR(EnsureWritableDirectory(dir));
      ASSIGN_OR_RETURN(lock, FolderLock::Acquire(dir));
      if (fs::exists(spec_path)) {
        ASSIGN_OR_RETURN(std::string existing, ReadFileToString(spec_path));
        if (existing != spec_text) {
          std::string other = "unknown";
          if (absl::StartsWith(existing, "# Model store spec. fingerprint: ")) {
            other = existing.substr(33, 64);
          }
          return absl::FailedPreconditionError(absl::StrCat(
              dir, " holds a model of another fingerprint (", other, ", wanted ", fingerprint,
              "); refusing to overwrite it: choose another folder"));
        }
      } else if (fs::exists(dir + "/" + kCheckpointFile)) {
        return absl::FailedPreconditionError(absl::StrCat(
            dir, " holds a checkpoint without ", kSpecFile, "; refusing to overwrite it"));
      } else {
        RETURN_IF_ERROR(WriteFileAtomically(spec_path, spec_text));
      }
      return absl::OkStatus();
    }();
  }
  if (world->size() > 1) {
    torch::Tensor failed = torch::tensor({prepared.ok() ? 0L : 1L}, torch::kLong);
    RETURN_IF_ERROR(world->AllReduceSum({failed}));
    if (failed.item<int64_t>() != 0 && prepared.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("rank 0 could not prepare ", dir, " (see its error)"));
    }
  }
  RETURN_IF_ERROR(prepared);

  // Initialisation draws from streams of (seed, replica), never from the row's position.
  const int64_t seed = request.runtime.seed();
  const uint64_t replica = static_cast<uint64_t>(request.run.replica());
  at::manual_seed(DeriveSeed(seed, {kInitStream, replica}));
  ASSIGN_OR_RETURN(ImageClassifier model, CreateModel(request.run.model()));
  const std::string checkpoint = dir + "/" + kCheckpointFile;
  if (!request.run.init_weights().empty() && !fs::exists(checkpoint)) {
    absl::StatusOr<StateDictFile> loaded = LoadWeightsFile(request.run.init_weights(), *model);
    if (!loaded.ok()) {
      return absl::Status(loaded.status().code(),
                          absl::StrCat("init_weights ", request.run.init_weights(), ": ",
                                       loaded.status().message()));
    }
  }
  const bool complete = CountLines(dir + "/" + kLogFile) >= request.run.training().epochs() &&
                        fs::exists(checkpoint);
  // The teacher is needed only to train: a finished student is reused without it.
  ImageClassifier teacher{nullptr};
  if (request.run.has_distillation() && !complete) {
    ASSIGN_OR_RETURN(teacher, ObtainTeacher(request, train, options));
  }
  if (!complete && owner) {
    RunIdentity identity{"model_store", options.command_line, spec_path, seed,
                         request.runtime.device()};
    const proto::Provenance provenance = CollectProvenance(identity, spec);
    RETURN_IF_ERROR(WriteFileAtomically(dir + "/" + kProvenanceFile, ToTextProto(provenance)));
    std::fprintf(stderr, "[store] training %s into %s\n", request.name.c_str(), dir.c_str());
  }

  TrainerOptions trainer;
  trainer.name = request.name;
  trainer.seed = DeriveSeed(seed, {replica});
  trainer.data_loader_threads = options.data_loader_threads;
  trainer.device = options.device;
  trainer.checkpoint_path = checkpoint;
  trainer.config_fingerprint = fingerprint;
  trainer.stop_after_epochs = options.stop_after_epochs;
  if (request.run.has_distillation()) {
    trainer.distillation = &request.run.distillation();
    trainer.teacher = teacher;
  }
  const proto::Normalization& normalization = request.run.model().normalization();
  trainer.input_mean.assign(normalization.mean().begin(), normalization.mean().end());
  trainer.input_std.assign(normalization.std().begin(), normalization.std().end());
  const std::string log_path = dir + "/" + kLogFile;
  trainer.on_epoch_end = [&log_path](const std::vector<EpochLog>& epochs) {
    return WriteFileAtomically(log_path, LogLines(epochs));
  };
  absl::StatusOr<TrainingReport> report =
      TrainModel(*model, train, request.run.training(), trainer);
  if (!report.ok()) {
    return absl::Status(report.status().code(),
                        absl::StrCat(request.name, ": ", report.status().message()));
  }
  StoredModel out;
  out.reused = report->resumed_after_epochs >= request.run.training().epochs();
  if (out.reused) {
    std::fprintf(stderr, "[store] reusing %s (%s, %d epochs, trained before)\n", dir.c_str(),
                 request.name.c_str(), report->resumed_after_epochs);
    // A folder trained before the log existed, or whose log was lost, gets it back.
    if (owner && CountLines(log_path) != static_cast<int>(report->epochs.size())) {
      RETURN_IF_ERROR(WriteFileAtomically(log_path, LogLines(report->epochs)));
    }
  }
  model->eval();
  out.model = model;
  out.report = *std::move(report);
  out.dir = dir;
  out.fingerprint = fingerprint;
  out.weights_sha256 = WeightsSha256(*model);
  return out;
}

}  // namespace

absl::StatusOr<proto::TrainedModelSpec> MakeSpec(const ModelRequest& request) {
  proto::TrainedModelSpec spec;
  spec.set_format_version(kSpecFormatVersion);
  *spec.mutable_model() = request.run.model();
  *spec.mutable_training() = request.run.training();
  *spec.mutable_train_data() = request.train_data;
  spec.set_seed(request.runtime.seed());
  spec.set_replica(request.run.replica());
  std::string weights_sha;
  if (!request.run.init_weights().empty()) {
    absl::StatusOr<std::string> bytes = ReadFileToString(request.run.init_weights());
    if (!bytes.ok()) {
      return absl::Status(bytes.status().code(),
                          absl::StrCat("init_weights: ", bytes.status().message()));
    }
    weights_sha = Sha256Hex(*bytes);
  }
  spec.set_init_weights_sha256(weights_sha);
  if (request.run.has_distillation()) {
    proto::DistillationConfig* distillation = spec.mutable_distillation();
    *distillation = request.run.distillation();
    if (distillation->has_stored()) {
      distillation->mutable_stored()->clear_label();
      distillation->mutable_stored()->clear_family();
      distillation->mutable_stored()->clear_paper_row();
    } else if (distillation->has_imported()) {
      absl::StatusOr<std::string> bytes = ReadFileToString(distillation->imported().weights());
      if (!bytes.ok()) {
        return absl::Status(bytes.status().code(),
                            absl::StrCat("distillation.imported.weights: ",
                                         bytes.status().message()));
      }
      spec.set_teacher_weights_sha256(Sha256Hex(*bytes));
      distillation->mutable_imported()->clear_weights();
    }
  }
  spec.set_num_threads(request.runtime.num_threads());
  const std::string& device = request.runtime.device();
  spec.set_device_type(absl::StartsWith(device, "cuda") ? "cuda" : device);
  return spec;
}

std::string CanonicalSpecText(const proto::TrainedModelSpec& spec) {
  // `training.standard {}` (plain, not adversarial, training) is left out, so that the models
  // trained before TrainingConfig.objective existed keep their fingerprints and spec files.
  if (spec.training().has_standard()) {
    proto::TrainedModelSpec copy = spec;
    copy.mutable_training()->clear_standard();
    return ToTextProto(copy);
  }
  return ToTextProto(spec);
}

std::string Fingerprint(const proto::TrainedModelSpec& spec) {
  return Sha256Hex(CanonicalSpecText(spec));
}

std::string WeightsSha256(const torch::nn::Module& module) {
  std::string bytes;
  auto append = [&bytes](const std::string& name, const torch::Tensor& t) {
    const torch::Tensor c = t.detach().to(torch::kCPU).contiguous();
    absl::StrAppend(&bytes, name, ":", c.scalar_type(), ":");
    bytes.append(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size());
  };
  for (const auto& p : module.named_parameters(/*recurse=*/true)) append(p.key(), p.value());
  for (const auto& b : module.named_buffers(/*recurse=*/true)) append(b.key(), b.value());
  return Sha256Hex(bytes);
}

absl::StatusOr<ModelStore> ModelStore::Open(const std::string& root) {
  absl::Status status = EnsureWritableDirectory(root);
  if (!status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat("model store root: ", status.message(),
                                     " (choose another with --store_root)"));
  }
  return ModelStore(fs::absolute(root).lexically_normal().string());
}

absl::StatusOr<StoredModel> ModelStore::Obtain(const ModelRequest& request,
                                               std::shared_ptr<const Dataset> train,
                                               const ObtainOptions& options) const {
  ASSIGN_OR_RETURN(proto::TrainedModelSpec spec, MakeSpec(request));
  const std::string fingerprint = Fingerprint(spec);
  ObtainOptions with_teacher_store = options;
  if (with_teacher_store.teacher_store_root.empty()) with_teacher_store.teacher_store_root = root_;
  const std::string suffix = "-" + fingerprint.substr(0, kFolderDigits);
  std::string dir = absl::StrCat(root_, "/", Slug(request.name), suffix);
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root_, ec)) {
    if (entry.is_directory() && absl::EndsWith(entry.path().filename().string(), suffix)) {
      dir = entry.path().string();  // the same model under another row label
      break;
    }
  }
  return ObtainInFolder(dir, request, spec, fingerprint, std::move(train), with_teacher_store);
}

absl::StatusOr<StoredModel> ObtainModelIn(const std::string& dir, const ModelRequest& request,
                                          std::shared_ptr<const Dataset> train,
                                          const ObtainOptions& options) {
  ASSIGN_OR_RETURN(proto::TrainedModelSpec spec, MakeSpec(request));
  return ObtainInFolder(dir, request, spec, Fingerprint(spec), std::move(train), options);
}

}  // namespace robustness
