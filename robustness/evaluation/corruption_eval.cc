#include "robustness/evaluation/corruption_eval.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>
#include <sstream>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "robustness/base/progress.h"
#include "robustness/base/status_macros.h"
#include "robustness/corruptions/corruption_names.h"
#include "robustness/corruptions/corruptor.h"
#include "robustness/datasets/idx_reader.h"
#include "robustness/datasets/image_folder.h"
#include "robustness/distributed/eval_shard.h"

namespace robustness {
namespace {

// AugMix's ALEXNET_ERR (google-research/augmix imagenet.py), the 15 common corruptions in order;
// their sums over severities / 5 (ood_suite.md 2).
constexpr double kAlexNetErrors[15] = {0.886428, 0.894468, 0.922640, 0.819880, 0.826268,
                                       0.785948, 0.798360, 0.866816, 0.826572, 0.819324,
                                       0.564592, 0.853204, 0.646056, 0.717840, 0.606500};

int64_t CountCorrect(ImageClassifierImpl& model, const torch::Tensor& images,
                     const torch::Tensor& labels, const torch::Device& device) {
  torch::NoGradGuard no_grad;
  return model.forward(images.to(device)).argmax(1).eq(labels.to(device)).sum().item<int64_t>();
}

// Images [first, first + count) of `data`, each through `transform` (may be the identity),
// stacked float32 [B, C, H, W], and their labels.
absl::StatusOr<std::pair<torch::Tensor, torch::Tensor>> LoadBatch(const Dataset& data,
                                                                 const ImageTransform& transform,
                                                                 int64_t first, int64_t count) {
  std::vector<torch::Tensor> images;
  std::vector<int64_t> labels;
  for (int64_t i = first; i < first + count; ++i) {
    ASSIGN_OR_RETURN(torch::Tensor image, data.Image(i));
    images.push_back(transform ? transform(image, /*seed=*/0) : image);
    labels.push_back(data.Label(i));
  }
  for (const torch::Tensor& image : images) {
    if (!image.sizes().equals(images.front().sizes())) {
      std::ostringstream sizes;
      sizes << image.sizes() << " vs " << images.front().sizes();
      return absl::InvalidArgumentError(absl::StrCat(
          "images ", first, "..", first + count - 1, " differ in size (", sizes.str(),
          "); set an eval transform that crops to one size"));
    }
  }
  return std::make_pair(torch::stack(images), torch::tensor(labels, torch::kLong));
}

absl::StatusOr<std::shared_ptr<const Dataset>> OpenPreRendered(const std::string& dir,
                                                               int64_t num_classes) {
  const std::string idx = dir + "/images-idx3-ubyte.gz";
  if (std::filesystem::exists(idx)) {
    proto::IdxSource source;
    source.set_images_path(idx);
    source.set_labels_path(dir + "/labels-idx1-ubyte.gz");
    source.set_num_classes(static_cast<int32_t>(num_classes));
    ASSIGN_OR_RETURN(InMemoryDataset data, ReadIdxDataset(source));
    return std::shared_ptr<const Dataset>(std::make_shared<InMemoryDataset>(std::move(data)));
  }
  proto::ImageFolderSource source;
  source.set_root(dir);
  source.set_num_classes(static_cast<int32_t>(num_classes));
  ASSIGN_OR_RETURN(std::unique_ptr<ImageFolderDataset> folder, ImageFolderDataset::Open(source));
  return std::shared_ptr<const Dataset>(std::move(folder));
}

void Summarize(bool alexnet, CorruptionReport* report) {
  double all = 0, common = 0;
  int num_common = 0;
  for (CorruptionErrors& c : report->corruptions) {
    double sum = 0;
    for (double e : c.errors) sum += e;
    c.mean_error = sum / static_cast<double>(c.errors.size());
    all += c.mean_error;
    if (absl::StatusOr<proto::Corruption> id = ParseCorruptionName(c.corruption);
        id.ok() && IsCommonCorruption(*id)) {
      common += c.mean_error;
      ++num_common;
    }
  }
  report->mce_all = 100.0 * all / static_cast<double>(report->corruptions.size());
  report->mce_common = num_common > 0 ? 100.0 * common / num_common : -1;
  if (!alexnet) return;
  report->baseline = "AlexNet";
  double normalized = 0, relative = 0;
  for (CorruptionErrors& c : report->corruptions) {
    const double alex = AlexNetMeanError(c.corruption);
    if (alex < 0) continue;
    c.normalized_ce = 100.0 * c.mean_error / alex;
    c.relative_ce = 100.0 * (c.mean_error - report->clean_error) / (alex - kAlexNetCleanError);
    normalized += c.normalized_ce;
    relative += c.relative_ce;
  }
  report->normalized_mce = normalized / 15.0;
  report->relative_mce = relative / 15.0;
}

}  // namespace

double AlexNetMeanError(const std::string& corruption) {
  absl::StatusOr<proto::Corruption> id = ParseCorruptionName(corruption);
  if (!id.ok() || !IsCommonCorruption(*id)) return -1;
  return kAlexNetErrors[static_cast<int>(*id) - 1];
}

absl::Status ValidateCorruptionEvalConfig(const proto::CorruptionEvalConfig& config,
                                          int64_t test_size) {
  if (config.corruptions().empty()) {
    return absl::InvalidArgumentError("corruptions: name at least one corruption");
  }
  std::set<std::string> names;
  for (int i = 0; i < config.corruptions_size(); ++i) {
    absl::StatusOr<proto::Corruption> c = ParseCorruptionName(config.corruptions(i));
    if (!c.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("corruptions[", i, "]: ", c.status().message()));
    }
    if (!names.insert(config.corruptions(i)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("corruptions[", i, "]: '", config.corruptions(i), "' is listed twice"));
    }
  }
  std::set<int> severities;
  for (int i = 0; i < config.severities_size(); ++i) {
    const int s = config.severities(i);
    if (s < 1 || s > 5) {
      return absl::InvalidArgumentError(
          absl::StrCat("severities[", i, "]: must be in 1..5, got ", s));
    }
    if (!severities.insert(s).second) {
      return absl::InvalidArgumentError(absl::StrCat("severities[", i, "]: ", s, " is listed twice"));
    }
  }
  if (severities.empty()) return absl::InvalidArgumentError("severities: at least one");
  if (config.batch_size() < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch_size: must be >= 1, got ", config.batch_size()));
  }
  if (config.num_images() < 0 || config.num_images() > test_size) {
    return absl::InvalidArgumentError(absl::StrCat("num_images: must be in [0, ", test_size,
                                                   "], got ", config.num_images()));
  }
  if (config.alexnet_normalized()) {
    int common = 0;
    for (const std::string& name : names) common += AlexNetMeanError(name) >= 0;
    if (common != 15 || severities.size() != 5) {
      return absl::InvalidArgumentError(
          "alexnet_normalized: needs the 15 common corruptions at severities 1..5 (AlexNet's "
          "errors are means over exactly those)");
    }
  }
  if (config.images_case() == proto::CorruptionEvalConfig::IMAGES_NOT_SET) {
    return absl::InvalidArgumentError("images: set on_the_fly or pre_rendered_root");
  }
  return absl::OkStatus();
}

absl::StatusOr<CorruptionReport> EvaluateCorruptions(ImageClassifierImpl& model,
                                                     std::shared_ptr<const Dataset> test,
                                                     const ImageTransform& eval_transform,
                                                     const proto::CorruptionEvalConfig& config,
                                                     const CorruptionEvalOptions& options) {
  RETURN_IF_ERROR(ValidateCorruptionEvalConfig(config, test->size()));
  const auto start = std::chrono::steady_clock::now();
  const int64_t n = config.num_images() == 0 ? test->size() : config.num_images();
  const int64_t batch = config.batch_size();
  const bool on_the_fly = config.has_on_the_fly();
  std::optional<Corruptor> corruptor;
  if (on_the_fly) {
    ASSIGN_OR_RETURN(Corruptor c, Corruptor::Create(config.corruption()));
    corruptor.emplace(std::move(c));
  }
  std::vector<std::pair<proto::Corruption, int>> pairs;
  CorruptionReport report;
  report.num_images = n;
  for (const std::string& name : config.corruptions()) {
    ASSIGN_OR_RETURN(proto::Corruption c, ParseCorruptionName(name));
    CorruptionErrors errors;
    errors.corruption = name;
    for (int s : config.severities()) {
      pairs.emplace_back(c, s);
      errors.severities.push_back(s);
    }
    report.corruptions.push_back(std::move(errors));
  }
  // Data parallelism (robustness/distributed): this rank's batches of the single-process order;
  // the counts are summed over the ranks at the end.
  std::shared_ptr<World> world = options.world;
  if (world == nullptr) {
    ASSIGN_OR_RETURN(world, CurrentWorld());
  }
  const EvalShard shard = ShardEvaluation(n, batch, world->rank(), world->size());
  const int64_t num_batches = static_cast<int64_t>(shard.global_batch.size());
  model.eval();
  std::vector<int64_t> correct(pairs.size(), 0);
  int64_t clean_correct = 0;
  ProgressLine progress(options.name.empty() ? "ImageNet-C" : options.name,
                        std::max<int64_t>(1, num_batches * static_cast<int64_t>(1 + pairs.size())),
                        "img", 5.0, world->progress_stream());
  int64_t steps = 0, units = 0;
  for (int64_t local = 0; local < num_batches; ++local) {
    const int64_t first = shard.global_batch[local] * batch, count = std::min(batch, n - first);
    ASSIGN_OR_RETURN(auto clean, LoadBatch(*test, eval_transform, first, count));
    clean_correct += CountCorrect(model, clean.first, clean.second, options.device);
    units += count;
    progress.Update(++steps, units, "clean");
    if (!on_the_fly) continue;
    const torch::Tensor bytes = clean.first.mul(255).round_().clamp_(0, 255).to(torch::kUInt8);
    for (size_t p = 0; p < pairs.size(); ++p) {
      ASSIGN_OR_RETURN(torch::Tensor corrupted,
                       corruptor->ApplyBatch(bytes, pairs[p].first, pairs[p].second,
                                             config.on_the_fly().seed(), first, options.threads));
      correct[p] += CountCorrect(model, corrupted.to(torch::kFloat).div_(255), clean.second,
                                 options.device);
      units += count;
      progress.Update(++steps, units,
                      absl::StrCat(CorruptionName(pairs[p].first), " s", pairs[p].second));
    }
  }
  if (!on_the_fly) {
    for (size_t p = 0; p < pairs.size(); ++p) {
      const std::string dir = absl::StrCat(config.pre_rendered_root(), "/",
                                           CorruptionName(pairs[p].first), "/", pairs[p].second);
      ASSIGN_OR_RETURN(std::shared_ptr<const Dataset> data,
                       OpenPreRendered(dir, test->num_classes()));
      if (data->size() < n) {
        return absl::InvalidArgumentError(absl::StrCat(
            dir, " has ", data->size(), " images, fewer than the ", n, " evaluated"));
      }
      for (int64_t local = 0; local < num_batches; ++local) {
        const int64_t first = shard.global_batch[local] * batch;
        const int64_t count = std::min(batch, n - first);
        ASSIGN_OR_RETURN(auto images, LoadBatch(*data, ImageTransform(), first, count));
        correct[p] += CountCorrect(model, images.first, images.second, options.device);
        units += count;
        progress.Update(++steps, units,
                        absl::StrCat(CorruptionName(pairs[p].first), " s", pairs[p].second));
      }
    }
  }
  if (world->size() > 1) {
    std::vector<int64_t> counts = {clean_correct};
    counts.insert(counts.end(), correct.begin(), correct.end());
    torch::Tensor totals = torch::tensor(counts, torch::kLong);
    RETURN_IF_ERROR(world->AllReduceSum({totals}));
    clean_correct = totals[0].item<int64_t>();
    for (size_t p = 0; p < pairs.size(); ++p) {
      correct[p] = totals[static_cast<int64_t>(p + 1)].item<int64_t>();
    }
  }
  report.clean_error = 1.0 - static_cast<double>(clean_correct) / static_cast<double>(n);
  for (size_t p = 0; p < pairs.size(); ++p) {
    report.corruptions[p / config.severities_size()].errors.push_back(
        1.0 - static_cast<double>(correct[p]) / static_cast<double>(n));
  }
  Summarize(config.alexnet_normalized(), &report);
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

void NormalizeBy(const CorruptionReport& baseline, const std::string& baseline_name,
                 CorruptionReport* report) {
  CHECK_EQ(baseline.corruptions.size(), report->corruptions.size());
  report->baseline = baseline_name;
  double normalized = 0, relative = 0;
  int count = 0;
  for (size_t c = 0; c < report->corruptions.size(); ++c) {
    CorruptionErrors& ours = report->corruptions[c];
    const CorruptionErrors& base = baseline.corruptions[c];
    CHECK_EQ(ours.corruption, base.corruption);
    CHECK_EQ(ours.errors.size(), base.errors.size());
    double e = 0, eb = 0, r = 0, rb = 0;
    for (size_t s = 0; s < ours.errors.size(); ++s) {
      e += ours.errors[s];
      eb += base.errors[s];
      r += ours.errors[s] - report->clean_error;
      rb += base.errors[s] - baseline.clean_error;
    }
    ours.normalized_ce = eb > 0 ? 100.0 * e / eb : -1;
    ours.relative_ce = rb > 0 ? 100.0 * r / rb : -1;
    if (AlexNetMeanError(ours.corruption) >= 0) {  // mCE: the 15 common ones
      normalized += ours.normalized_ce;
      relative += ours.relative_ce;
      ++count;
    }
  }
  report->normalized_mce = count > 0 ? normalized / count : -1;
  report->relative_mce = count > 0 ? relative / count : -1;
}

std::string RenderCorruptionMarkdown(const std::string& title, const CorruptionReport& report) {
  std::string md = absl::StrFormat("### %s\n\n%d images; clean error %.2f%%.\n\n", title,
                                   report.num_images, 100 * report.clean_error);
  const std::vector<int>& severities = report.corruptions.front().severities;
  md += "| corruption |";
  for (int s : severities) absl::StrAppend(&md, " s", s, " |");
  md += " CE (%) |";
  const bool normalized = !report.baseline.empty();
  if (normalized) absl::StrAppend(&md, " CE / ", report.baseline, " | rel. CE |");
  md += "\n| --- |";
  for (size_t i = 0; i < severities.size() + 1 + (normalized ? 2 : 0); ++i) md += " ---: |";
  md += "\n";
  for (const CorruptionErrors& c : report.corruptions) {
    absl::StrAppend(&md, "| ", c.corruption, " |");
    for (double e : c.errors) absl::StrAppendFormat(&md, " %.1f |", 100 * e);
    absl::StrAppendFormat(&md, " **%.2f** |", 100 * c.mean_error);
    if (normalized) {
      if (c.normalized_ce >= 0) {
        absl::StrAppendFormat(&md, " %.1f | %.1f |", c.normalized_ce, c.relative_ce);
      } else {
        md += " - | - |";
      }
    }
    md += "\n";
  }
  absl::StrAppendFormat(&md, "\nmCE, unnormalised (the paper's number): **%.2f%%** over the 15 common",
                        report.mce_common);
  absl::StrAppendFormat(&md, "; %.2f%% over all %d evaluated.\n", report.mce_all,
                        report.corruptions.size());
  if (normalized && report.normalized_mce >= 0) {
    absl::StrAppendFormat(&md, "mCE normalised by %s: %.1f; relative mCE: %.1f.\n",
                          report.baseline, report.normalized_mce, report.relative_mce);
  }
  return md;
}

std::string RenderCorruptionHeatMap(const std::string& title, const CorruptionReport& report) {
  const int rows = static_cast<int>(report.corruptions.size());
  const int cols = static_cast<int>(report.corruptions.front().errors.size());
  const int cell_w = 56, cell_h = 20, left = 140, top = 40;
  const int width = left + cell_w * (cols + 1) + 20, height = top + cell_h * rows + 40;
  auto escape = [](const std::string& s) {
    std::string out;
    for (char ch : s) {
      if (ch == '<') out += "&lt;";
      else if (ch == '>') out += "&gt;";
      else if (ch == '&') out += "&amp;";
      else out += ch;
    }
    return out;
  };
  std::string svg = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
      "font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%%\" height=\"100%%\" "
      "fill=\"white\"/>\n<text x=\"%d\" y=\"20\" font-size=\"13\">%s</text>\n",
      width, height, left, escape(title));
  for (int c = 0; c < cols; ++c) {
    absl::StrAppendFormat(&svg, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">s%d</text>\n",
                          left + c * cell_w + cell_w / 2, top - 4,
                          report.corruptions.front().severities[c]);
  }
  absl::StrAppendFormat(&svg, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">CE</text>\n",
                        left + cols * cell_w + cell_w / 2, top - 4);
  for (int r = 0; r < rows; ++r) {
    const CorruptionErrors& c = report.corruptions[r];
    const int y = top + r * cell_h;
    absl::StrAppendFormat(&svg, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n",
                          left - 6, y + 14, escape(c.corruption));
    for (int k = 0; k <= cols; ++k) {
      const double e = k < cols ? c.errors[k] : c.mean_error;
      // White (0% error) to dark red (100%).
      const int g = static_cast<int>(std::lround(255 * (1 - std::clamp(e, 0.0, 1.0))));
      absl::StrAppendFormat(
          &svg,
          "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"rgb(255,%d,%d)\" "
          "stroke=\"white\"/>\n<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"%s\">%.1f"
          "</text>\n",
          left + k * cell_w, y, cell_w, cell_h, g, g, left + k * cell_w + cell_w / 2, y + 14,
          e > 0.6 ? "white" : "black", 100 * e);
    }
  }
  absl::StrAppendFormat(&svg,
                        "<text x=\"%d\" y=\"%d\">top-1 error (%%); clean %.1f%%, mCE %.2f%%</text>\n"
                        "</svg>\n",
                        left, top + rows * cell_h + 24, 100 * report.clean_error,
                        report.mce_common >= 0 ? report.mce_common : report.mce_all);
  return svg;
}

}  // namespace robustness
