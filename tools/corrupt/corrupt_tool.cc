#include "tools/corrupt/corrupt_tool.h"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "robustness/augmentation/uint8_image.h"
#include "robustness/base/atomic_file.h"
#include "robustness/base/progress.h"
#include "robustness/base/status_macros.h"
#include "robustness/config/composed_config.h"
#include "robustness/config/provenance.h"
#include "robustness/config/require_fields.h"
#include "robustness/corruptions/corruption_names.h"
#include "robustness/corruptions/corruptor.h"
#include "robustness/datasets/idx_reader.h"
#include "robustness/datasets/idx_writer.h"
#include "robustness/datasets/image_codec.h"
#include "robustness/datasets/image_folder.h"

namespace robustness {
namespace {

namespace fs = std::filesystem;
using Pair = std::pair<proto::Corruption, int>;

absl::StatusOr<std::vector<Pair>> SelectedPairs(const tools::CorruptConfig& config) {
  std::vector<proto::Corruption> corruptions;
  if (config.has_all()) {
    corruptions = config.all().include_extras() ? AllCorruptions() : CommonCorruptions();
  } else {
    if (config.list().names().empty()) {
      return absl::InvalidArgumentError("list.names: name at least one corruption");
    }
    for (int i = 0; i < config.list().names_size(); ++i) {
      absl::StatusOr<proto::Corruption> c = ParseCorruptionName(config.list().names(i));
      if (!c.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("list.names[", i, "]: ", c.status().message()));
      }
      corruptions.push_back(*c);
    }
  }
  std::vector<Pair> pairs;
  for (proto::Corruption c : corruptions) {
    for (int s : config.severities()) pairs.emplace_back(c, s);
  }
  return pairs;
}

std::string PairDir(const std::string& out, const Pair& pair) {
  return absl::StrCat(out, "/", CorruptionName(pair.first), "/", pair.second);
}

std::string Stem(const std::string& path) { return fs::path(path).stem().string(); }

}  // namespace

absl::Status ValidateCorruptConfig(const tools::CorruptConfig& config) {
  for (int i = 0; i < config.severities_size(); ++i) {
    if (config.severities(i) < 1 || config.severities(i) > 5) {
      return absl::InvalidArgumentError(absl::StrCat(
          "severities[", i, "]: must be in 1..5, got ", config.severities(i)));
    }
  }
  if (config.threads() < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("threads: must be >= 1, got ", config.threads()));
  }
  if (config.max_images() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_images: must be >= 0, got ", config.max_images()));
  }
  const tools::OutputFormat format = config.output_format();
  if (config.has_idx() && format != tools::IDX_GZ) {
    return absl::InvalidArgumentError(absl::StrCat(
        "output_format: IDX input is written as IDX_GZ, got ", tools::OutputFormat_Name(format)));
  }
  if (config.has_image_folder() && format != tools::PNG_FOLDER &&
      format != tools::JPEG_Q85_FOLDER) {
    return absl::InvalidArgumentError(
        absl::StrCat("output_format: folder input is written as PNG_FOLDER or JPEG_Q85_FOLDER, got ",
                     tools::OutputFormat_Name(format)));
  }
  if (config.on_unreadable() == tools::UNREADABLE_POLICY_UNSPECIFIED) {
    return absl::InvalidArgumentError("on_unreadable: must be FAIL or SKIP");
  }
  if (config.corruption().severity_table() == proto::SEVERITY_TABLE_UNSPECIFIED) {
    return absl::InvalidArgumentError("corruption.severity_table: must be set");
  }
  return SelectedPairs(config).status();
}

absl::StatusOr<CorruptSummary> RunCorruptTool(const CorruptToolOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  tools::CorruptConfig config;
  ConfigOrigins origins;
  RETURN_IF_ERROR(ReadComposedConfigWithFragment(options.config_path, options.set_fragment,
                                                 &config, &origins));
  RETURN_IF_ERROR(RequireAllFieldsSet(config, options.config_path));
  RETURN_IF_ERROR(origins.Annotate(ValidateCorruptConfig(config), ""));
  if (options.output_dir.empty()) return absl::InvalidArgumentError("--output_dir is required");
  ASSIGN_OR_RETURN(std::vector<Pair> pairs, SelectedPairs(config));
  ASSIGN_OR_RETURN(Corruptor corruptor, Corruptor::Create(config.corruption()));
  RunIdentity run;
  run.binary = "corrupt";
  run.config_path = options.config_path;
  run.seed = static_cast<int64_t>(config.seed());
  run.device = "cpu";
  RETURN_IF_ERROR(WriteRunHeader(options.output_dir, run, config).status());

  CorruptSummary summary;
  summary.pairs = static_cast<int64_t>(pairs.size());
  const int threads = config.threads();
  if (config.has_idx()) {
    ASSIGN_OR_RETURN(InMemoryDataset data, ReadIdxDataset(config.idx()));
    torch::Tensor images = data.images(), labels = data.labels();
    if (config.max_images() > 0 && config.max_images() < images.size(0)) {
      images = images.slice(0, 0, config.max_images());
      labels = labels.slice(0, 0, config.max_images());
    }
    ProgressLine progress("corrupt", summary.pairs, "img");
    int64_t done = 0, units = 0;
    for (const Pair& pair : pairs) {
      const std::string dir = PairDir(options.output_dir, pair);
      const std::string image_path = dir + "/images-idx3-ubyte.gz";
      const std::string label_path = dir + "/labels-idx1-ubyte.gz";
      if (fs::exists(image_path) && fs::exists(label_path)) {
        summary.files_resumed += 2;
      } else {
        RETURN_IF_ERROR(EnsureWritableDirectory(dir));
        ASSIGN_OR_RETURN(torch::Tensor corrupted,
                         corruptor.ApplyBatch(images, pair.first, pair.second, config.seed(),
                                              /*first_index=*/0, threads));
        RETURN_IF_ERROR(WriteIdxImages(image_path, corrupted));
        RETURN_IF_ERROR(WriteIdxLabels(label_path, labels));
        summary.files_written += 2;
        units += images.size(0);
      }
      progress.Update(++done, units,
                      absl::StrCat(CorruptionName(pair.first), " s", pair.second));
    }
  } else {
    ASSIGN_OR_RETURN(std::unique_ptr<ImageFolderDataset> folder,
                     ImageFolderDataset::Open(config.image_folder()));
    int64_t n = folder->size();
    if (config.max_images() > 0) n = std::min(n, config.max_images());
    const bool jpeg = config.output_format() == tools::JPEG_Q85_FOLDER;
    // Class folders first, serially.
    for (const Pair& pair : pairs) {
      for (const std::string& name : folder->class_names()) {
        RETURN_IF_ERROR(EnsureWritableDirectory(PairDir(options.output_dir, pair) + "/" + name));
      }
    }
    ProgressLine progress("corrupt", n, "img");
    std::atomic<int64_t> next{0}, finished{0};
    std::atomic<bool> failed{false};
    std::mutex mu;
    absl::Status first_error;
    int64_t first_error_index = -1;
    auto fail = [&](int64_t index, absl::Status status) {
      std::lock_guard<std::mutex> lock(mu);
      if (first_error_index < 0 || index < first_error_index) {
        first_error_index = index;
        first_error = std::move(status);
      }
      failed = true;
    };
    auto work = [&] {
      for (int64_t i = next++; i < n && !failed; i = next++) {
        const std::string& path = folder->path(i);
        const std::string class_name = folder->class_names()[folder->Label(i)];
        std::vector<std::pair<Pair, std::string>> missing;
        int64_t resumed = 0;
        for (const Pair& pair : pairs) {
          const std::string out = absl::StrCat(PairDir(options.output_dir, pair), "/", class_name,
                                               "/", Stem(path), jpeg ? ".JPEG" : ".png");
          if (fs::exists(out)) {
            ++resumed;
          } else {
            missing.emplace_back(pair, out);
          }
        }
        int64_t written = 0;
        if (!missing.empty()) {
          absl::StatusOr<torch::Tensor> decoded = DecodeImageFileRegion(
              path, [](int64_t h, int64_t w) { return PixelBox{0, 0, h, w}; });
          if (!decoded.ok()) {
            if (config.on_unreadable() == tools::FAIL) {
              fail(i, absl::DataLossError(absl::StrCat(
                          "unreadable image ", path, " (on_unreadable: FAIL): ",
                          decoded.status().message())));
              return;
            }
            std::lock_guard<std::mutex> lock(mu);
            summary.skipped.push_back(absl::StrCat(path, ": ", decoded.status().message()));
            ++finished;
            continue;
          }
          const Uint8Image image = Uint8ImageFromBytes(*decoded);
          for (const auto& [pair, out] : missing) {
            absl::StatusOr<Uint8Image> corrupted = corruptor.Apply(
                image, pair.first, pair.second,
                Corruptor::ImageSeed(config.seed(), pair.first, pair.second, i));
            if (!corrupted.ok()) {
              fail(i, absl::Status(corrupted.status().code(),
                                   absl::StrCat(path, ": ", corrupted.status().message())));
              return;
            }
            const torch::Tensor tensor = ToFloatTensor(*corrupted);
            const absl::Status written_ok =
                WriteFileAtomicallyWith(out, [&](const std::string& temp) {
                  return jpeg ? WriteJpeg(temp, tensor, 85) : WritePng(temp, tensor);
                });
            if (!written_ok.ok()) {
              fail(i, written_ok);
              return;
            }
            ++written;
          }
        }
        std::lock_guard<std::mutex> lock(mu);
        summary.files_written += written;
        summary.files_resumed += resumed;
        progress.Update(++finished, finished);
      }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (std::thread& t : pool) t.join();
    if (failed) return first_error;
    std::sort(summary.skipped.begin(), summary.skipped.end());
    if (!summary.skipped.empty()) {
      RETURN_IF_ERROR(WriteFileAtomically(options.output_dir + "/skipped.txt",
                                          absl::StrJoin(summary.skipped, "\n") + "\n"));
    }
  }
  summary.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  RETURN_IF_ERROR(WriteFileAtomically(
      options.output_dir + "/summary.md",
      absl::StrCat("| pairs | files written | files resumed | skipped | seconds |\n"
                   "| ---: | ---: | ---: | ---: | ---: |\n| ",
                   summary.pairs, " | ", summary.files_written, " | ", summary.files_resumed,
                   " | ", summary.skipped.size(), " | ", absl::StrFormat("%.1f", summary.seconds),
                   " |\n")));
  return summary;
}

}  // namespace robustness
