#include "experiments/patch_attack/patch_attack_table.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "robustness/attacks/texture_patch_attack.h"
#include "robustness/augmentation/transform_factory.h"
#include "robustness/base/atomic_file.h"
#include "robustness/base/sha256.h"
#include "robustness/base/status_macros.h"
#include "robustness/config/text_proto_file.h"
#include "robustness/datasets/dataset_factory.h"
#include "robustness/datasets/image_codec.h"
#include "robustness/distributed/world.h"
#include "robustness/evaluation/patch_attack_eval.h"
#include "robustness/evaluation/svg_line_plot.h"
#include "robustness/harness/paper_numbers.h"
#include "robustness/harness/robustness_table.h"
#include "robustness/models/model_factory.h"
#include "robustness/models/vgg.h"
#include "robustness/textures/dictionary_builder.h"
#include "robustness/textures/texture_dictionary.h"
#include "robustness/weights/module_state_dict.h"

namespace robustness {

using experiments::PatchAttackTableConfig;
using experiments::PatchAttackTableResult;

namespace {

// `status` located by the config's origins (ConfigOrigins::Annotate: its message starts with a
// field path below `prefix`), else by the config file itself.
absl::Status Located(const absl::Status& status, const std::string& prefix,
                     const std::string& source, const ConfigOrigins& origins) {
  if (status.ok()) return status;
  const absl::Status annotated = origins.Annotate(status, prefix);
  if (annotated.message() != status.message()) return annotated;
  return absl::Status(status.code(), absl::StrCat(source, ": ", prefix, status.message()));
}

struct FeatureNetwork {
  ImageClassifier model{nullptr};
  VGGImpl* vgg = nullptr;
  std::string weights_sha256;
};

absl::StatusOr<FeatureNetwork> ObtainFeatureNetwork(ExperimentRun& run,
                                                    const PatchAttackTableConfig& config,
                                                    std::shared_ptr<const Dataset> train,
                                                    const Dataset& test,
                                                    const ImageTransform& eval_transform) {
  const proto::TextureDictionaryConfig& d = config.dictionary();
  FeatureNetwork f;
  if (d.has_stored()) {
    ASSIGN_OR_RETURN(StoredModel stored,
                     run.ObtainModel(config.models_size(), d.stored(), config.train_data(),
                                     train, test, eval_transform));
    f.model = stored.model;
    f.weights_sha256 = stored.weights_sha256;
  } else {
    ASSIGN_OR_RETURN(f.model, CreateModel(d.imported().model()));
    absl::StatusOr<StateDictFile> loaded = LoadWeightsFile(d.imported().weights(), *f.model);
    if (!loaded.ok()) {
      return absl::Status(loaded.status().code(),
                          absl::StrCat("dictionary.imported.weights ", d.imported().weights(),
                                       ": ", loaded.status().message()));
    }
    f.model->to(run.device());
    f.model->eval();
    f.weights_sha256 = WeightsSha256(*f.model);
  }
  f.vgg = dynamic_cast<VGGImpl*>(f.model.get());
  if (f.vgg == nullptr) {
    return absl::InvalidArgumentError(
        "dictionary.feature_network: must be a VGG (model.vgg), the Gatys style layers and "
        "Grad-CAM layer are VGG layers");
  }
  f.vgg->eval();
  return f;
}

}  // namespace

absl::Status ValidatePatchAttackTableConfig(const PatchAttackTableConfig& c,
                                            const std::string& source,
                                            const ConfigOrigins& origins) {
  RETURN_IF_ERROR(ValidateModelRowBlocks(c, source, origins));
  const proto::TextureDictionaryConfig& d = c.dictionary();
  int64_t num_classes = 0, image_size = 0, channels = 0;
  for (int i = 0; i < c.models_size(); ++i) {
    const proto::ModelConfig& m = c.models(i).model();
    if (i == 0) {
      num_classes = m.num_classes();
      image_size = m.image_size();
      channels = m.in_channels();
    } else if (m.num_classes() != num_classes || m.image_size() != image_size ||
               m.in_channels() != channels) {
      return Located(absl::InvalidArgumentError(absl::StrCat(
                         "models[", i, "].model: every row needs the same classes, channels and ",
                         "image size (one dictionary serves them all)")),
                     "", source, origins);
    }
  }
  const proto::ModelConfig* feature = nullptr;
  if (d.has_stored()) {
    RETURN_IF_ERROR(
        ValidateModelRun(d.stored(), "dictionary.stored", c.train_data(), source, origins));
    feature = &d.stored().model();
  } else if (d.has_imported()) {
    RETURN_IF_ERROR(
        Located(ValidateModelConfig(d.imported().model()), "dictionary.imported.", source, origins));
    feature = &d.imported().model();
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": dictionary: set the feature network (stored or imported)"));
  }
  if (!feature->has_vgg()) {
    return Located(absl::InvalidArgumentError(
                       "dictionary: the feature network must be a VGG (model.vgg)"),
                   "", source, origins);
  }
  if (feature->num_classes() != num_classes || feature->in_channels() != channels) {
    return Located(absl::InvalidArgumentError(absl::StrCat(
                       "dictionary: the feature network has ", feature->num_classes(),
                       " classes and ", feature->in_channels(), " channels, the rows ",
                       num_classes, " and ", channels)),
                   "", source, origins);
  }
  if (d.texture_size() != image_size) {
    return Located(absl::InvalidArgumentError(absl::StrCat(
                       "dictionary.texture_size: ", d.texture_size(),
                       ", the rows' images are ", image_size, " px")),
                   "", source, origins);
  }
  RETURN_IF_ERROR(Located(ValidateTextureDictionaryConfig(d, "dictionary", num_classes), "",
                          source, origins));
  // The attack draws its textures from classes the dictionary must have.
  const int texture_class = c.tpa().attack().texture_class();
  const std::set<int> built(d.classes().begin(), d.classes().end());
  if (!d.classes().empty() && texture_class >= 0 && built.count(texture_class) == 0) {
    return Located(absl::InvalidArgumentError(absl::StrCat(
                       "tpa.attack.texture_class: ", texture_class,
                       " is not among dictionary.classes")),
                   "", source, origins);
  }
  if (!d.classes().empty() && texture_class < 0 &&
      static_cast<int64_t>(built.size()) != num_classes) {
    return Located(absl::InvalidArgumentError(absl::StrCat(
                       "tpa.attack.texture_class: -1 draws textures of any class, but "
                       "dictionary.classes lists ", built.size(), " of ", num_classes)),
                   "", source, origins);
  }
  const int64_t known =
      c.test_data().subset_size() > 0 ? c.test_data().subset_size() : int64_t{1} << 40;
  return Located(ValidatePatchAttackEvalConfig(c.tpa(), "tpa", known, image_size,
                                               d.texture_size(), num_classes),
                 "", source, origins);
}

std::string TextureDictionaryDir(const std::string& store_root, const std::string& name,
                                 const proto::TextureDictionaryConfig& config,
                                 const std::string& feature_weights_sha256) {
  proto::TextureDictionaryConfig c = config;
  c.clear_feature_network();
  const std::string sha = Sha256Hex(absl::StrCat(ToTextProto(c), feature_weights_sha256));
  return absl::StrCat(store_root, "/textures/", name, "-", sha.substr(0, 16));
}

absl::StatusOr<TextureDictionary> ObtainTextureDictionary(
    ExperimentRun& run, const PatchAttackTableConfig& config, std::shared_ptr<const Dataset> train,
    const Dataset& test, const ImageTransform& eval_transform,
    experiments::DictionaryRecord* record) {
  const int64_t image_size = config.models(0).model().image_size();
  ASSIGN_OR_RETURN(FeatureNetwork feature,
                   ObtainFeatureNetwork(run, config, train, test, eval_transform));
  record->set_dir(TextureDictionaryDir(run.store().root(), config.name(), config.dictionary(),
                                       feature.weights_sha256));
  record->set_feature_network(
      ArchitectureName(config.dictionary().has_stored() ? config.dictionary().stored().model()
                                                        : config.dictionary().imported().model()));
  record->set_feature_weights_sha256(feature.weights_sha256);
  record->set_textures_per_class(config.dictionary().textures_per_class());
  record->set_texture_size(config.dictionary().texture_size());
  // Data parallelism (robustness/distributed/world.h): rank 0 builds (or resumes) the
  // dictionary while the other ranks wait for it, then every rank reads the same folder.
  ASSIGN_OR_RETURN(std::shared_ptr<World> world, CurrentWorld());
  absl::StatusOr<proto::TextureDictionaryManifest> before = ReadTextureManifest(record->dir());
  const int before_classes = before.ok() ? before->classes_size() : 0;
  RETURN_IF_ERROR(world->Barrier());  // every rank has read `before`
  absl::StatusOr<proto::TextureDictionaryManifest> manifest =
      absl::UnavailableError("built by rank 0");
  if (world->is_main()) {
    DictionaryBuildOptions build;
    build.device = run.device();
    manifest = BuildTextureDictionary(record->dir(), *feature.vgg, record->feature_network(),
                                      feature.weights_sha256, *train, config.dictionary(), build);
  }
  if (world->size() > 1) {
    torch::Tensor failed =
        torch::tensor({int64_t{world->is_main() && !manifest.ok()}}, torch::kLong);
    const absl::Status waited = world->AllReduceSum({failed});
    if (!waited.ok()) {
      return absl::Status(
          waited.code(),
          absl::StrCat("waiting for rank 0 to build the texture dictionary ", record->dir(),
                       ": ", waited.message(), ". A long build (paper scale) outlasts the "
                       "collectives' timeout: build it first with tools/texture_dictionary "
                       "(one process), or raise ROBUSTNESS_DIST_TIMEOUT_S"));
    }
    if (!world->is_main()) {
      if (failed.item<int64_t>() != 0) {
        return absl::InternalError(absl::StrCat("rank 0 could not build the texture dictionary ",
                                                record->dir(), " (see its error)"));
      }
      manifest = ReadTextureManifest(record->dir());
    }
  }
  if (!manifest.ok()) return manifest.status();
  double built = 0;
  for (const auto& e : manifest->classes()) built += e.seconds();
  record->set_build_seconds(built);
  record->set_reused(before_classes == manifest->classes_size());
  ASSIGN_OR_RETURN(TextureDictionary dictionary,
                   TextureDictionary::Open(record->dir(), test.num_classes(),
                                           config.models(0).model().in_channels(), image_size));
  torch::NoGradGuard no_grad;
  int64_t right = 0;
  for (int64_t i = 0; i < config.tpa().num_images(); ++i) {
    ASSIGN_OR_RETURN(torch::Tensor image, test.Image(i));
    if (eval_transform) image = eval_transform(image, 0);
    right += feature.model->forward(image.unsqueeze(0).to(run.device())).argmax(1).item<int64_t>() ==
             test.Label(i);
  }
  record->set_feature_network_clean_accuracy(100.0 * right / config.tpa().num_images());
  return dictionary;
}

absl::StatusOr<PatchAttackTableResult> RunPatchAttackTable(
    const std::string& binary, const std::string& config_path, const std::string& output_dir,
    const HarnessOptions& options,
    const std::function<std::string(const PatchAttackTableResult&)>& render) {
  PatchAttackTableConfig config;
  ASSIGN_OR_RETURN(ConfigOrigins origins, LoadExperimentConfig(config_path, &config));
  RETURN_IF_ERROR(ValidatePatchAttackTableConfig(config, config_path, origins));
  ASSIGN_OR_RETURN(ExperimentRun run, ExperimentRun::Start(binary, config_path, config,
                                                           config.runtime(), output_dir, options));
  ASSIGN_OR_RETURN(std::shared_ptr<const Dataset> train, CreateDataset(config.train_data()));
  ASSIGN_OR_RETURN(std::shared_ptr<const Dataset> test, CreateDataset(config.test_data()));
  ASSIGN_OR_RETURN(ImageTransform eval_transform, CreateEvalTransform(config.eval_transform()));
  const int64_t image_size = config.models(0).model().image_size();
  RETURN_IF_ERROR(ValidatePatchAttackEvalConfig(config.tpa(), "tpa", test->size(), image_size,
                                                config.dictionary().texture_size(),
                                                test->num_classes()));
  // The dictionary first: it is victim-agnostic, and a broken one should fail before training.
  PatchAttackTableResult result;
  result.set_name(config.name());
  result.set_config_sha256(run.provenance().config_sha256());
  ASSIGN_OR_RETURN(TextureDictionary dictionary,
                   ObtainTextureDictionary(run, config, train, *test, eval_transform,
                                           result.mutable_dictionary()));

  const proto::PatchAttackConfig& ac = config.tpa().attack();
  experiments::TpaSettings* s = result.mutable_settings();
  s->set_num_patches(ac.num_patches());
  s->set_area_fraction(ac.area_fraction());
  s->set_area_mode(AreaModeName(ac.area_mode()));
  s->set_area_budget(100 * AreaBudget(ac));
  s->set_patch_side(PatchSide(ac, image_size, image_size));
  s->set_goal(proto::PatchAttackConfig::Goal_Name(ac.goal()));
  s->set_texture_class(ac.texture_class());
  s->set_queries_per_step(ac.queries_per_step());
  s->set_max_steps(ac.max_steps());
  s->set_query_budget(ac.query_budget());
  s->set_num_images(config.tpa().num_images());

  std::vector<std::pair<std::string, std::string>> extra;
  LinePlot plot;
  plot.title = absl::StrFormat("Accuracy under TPA vs. number of patches (%s, %.1f%% area budget)",
                               s->area_mode(), s->area_budget());
  plot.x_label = "patches (agents) allowed";
  plot.y_label = "accuracy under TPA (%)";
  for (int row = 0; row < config.models_size(); ++row) {
    const proto::ModelRun& model_run = config.models(row);
    ASSIGN_OR_RETURN(StoredModel model, run.ObtainModel(row, model_run, config.train_data(), train,
                                                        *test, eval_transform));
    PatchAttackEvalOptions eval_options;
    eval_options.name = absl::StrCat("TPA ", model_run.label());
    eval_options.seed = run.EvaluationSeed(row);
    eval_options.device = run.device();
    ASSIGN_OR_RETURN(PatchAttackReport report,
                     EvaluatePatchAttack(*model.model, *test, eval_transform, dictionary,
                                         config.tpa(), eval_options));
    RobustnessReport clean;
    clean.num_images = report.num_images;
    clean.clean_accuracy = report.clean_accuracy;
    clean.seconds = report.seconds;
    *result.add_models() = MakeModelResult(model_run, model, clean);
    experiments::TpaRow* r = result.add_rows();
    r->set_label(model_run.label());
    r->set_family(model_run.family());
    const proto::TrainingConfig& training = model_run.training();
    r->set_rand_augment(training.augmentation().has_rand_augment());
    r->set_mixup(training.has_mixup() && training.mixup().mixup_alpha() > 0);
    r->set_cutmix(training.has_mixup() && training.mixup().cutmix_alpha() > 0);
    r->set_clean_accuracy(100 * report.clean_accuracy);
    r->set_tpa_accuracy(100 * report.tpa_accuracy);
    r->set_success_rate(100 * report.success_rate);
    PlotSeries series;
    series.name = model_run.label();
    series.points.emplace_back(0, 100 * report.clean_accuracy);
    for (size_t k = 0; k < report.accuracy_after.size(); ++k) {
      r->add_accuracy_after(100 * report.accuracy_after[k]);
      series.points.emplace_back(k + 1, 100 * report.accuracy_after[k]);
    }
    plot.series.push_back(series);
    r->set_mean_queries(report.mean_queries);
    r->set_mean_queries_all(report.mean_queries_all);
    r->set_mean_patches(report.mean_patches);
    r->set_mean_area(100 * report.mean_area);
    r->set_max_area(100 * report.max_area);
    r->set_eval_seconds(report.seconds);
    for (size_t j = 0; j < report.examples.size(); ++j) {
      const std::string file = absl::StrCat("examples_", row, "_", j, ".png");
      const int64_t scale = std::max<int64_t>(1, 112 / image_size);
      const torch::Tensor strip =
          SideBySide(report.examples[j].first, report.examples[j].second, scale);
      RETURN_IF_ERROR(WriteFileAtomicallyWith(
          absl::StrCat(output_dir, "/", file),
          [&](const std::string& temp) { return WritePng(temp, strip); }));
      r->add_example_files(file);
    }
  }
  extra.emplace_back("tpa_accuracy_vs_patches.svg", RenderSvg(plot));
  RETURN_IF_ERROR(run.WriteResults(result, render(result), extra));
  return result;
}

std::string GapVerdict(double a, double b, int64_t n) {
  const double pa = a / 100, pb = b / 100;
  const double band =
      200 * std::sqrt((pa * (1 - pa) + pb * (1 - pb)) / static_cast<double>(std::max<int64_t>(n, 1)));
  const double gap = a - b;
  const char* verdict = gap > band    ? "holds"
                        : gap < -band ? "does not hold"
                                      : "not resolved";
  return absl::StrFormat("%s (gap %+.1f points, 2 standard errors %.1f, %d images)", verdict, gap,
                         band, n);
}

std::string RenderPatchAttackRows(const PatchAttackTableResult& result,
                                  const std::string& paper_table) {
  const experiments::TpaSettings& s = result.settings();
  std::string md = absl::StrFormat(
      "Texture Patch Attack (PAPER.md 3.9): %s, up to %d patches of %d x %d px, area read as %s "
      "(%.2f%% of the image in all at most), %s, %d queries per RL step, at most %d steps per "
      "patch and %d queries per image; texture class %s. %d test images: accuracy under TPA = "
      "still classified correctly (clean errors count as wrong).\n\n",
      s.goal(), s.num_patches(), s.patch_side(), s.patch_side(), s.area_mode(), s.area_budget(),
      s.goal() == "NON_TARGETED" ? "non-targeted as the paper" : "targeted",
      s.queries_per_step(), s.max_steps(), s.query_budget(),
      s.texture_class() < 0 ? "random per image (seeded), never the image's own"
                            : absl::StrCat(s.texture_class()),
      s.num_images());
  md += "| Model | paper row | clean (%) | **TPA acc. (%)** | success (% of attacked) | "
        "queries (successful) | patches (successful) | area (successful, %) | paper clean | "
        "paper TPA |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  for (int i = 0; i < result.rows_size(); ++i) {
    const auto& r = result.rows(i);
    const auto& m = result.models(i);
    absl::StrAppendFormat(&md, "| %s | %s | %.1f | **%.1f** | %.1f | %.0f | %.2f | %.2f | %s | %s |\n",
                          r.label(), m.paper_row(), r.clean_accuracy(), r.tpa_accuracy(),
                          r.success_rate(), r.mean_queries(), r.mean_patches(), r.mean_area(),
                          PaperCell(paper_table, m.paper_row(), "clean"),
                          PaperCell(paper_table, m.paper_row(), "tpa"));
  }
  md += "\nAccuracy under TPA with a budget of k patches:\n\n| Model |";
  for (int k = 1; k <= s.num_patches(); ++k) absl::StrAppend(&md, " k=", k, " |");
  md += "\n| --- |";
  for (int k = 1; k <= s.num_patches(); ++k) md += " ---: |";
  md += "\n";
  for (const auto& r : result.rows()) {
    absl::StrAppend(&md, "| ", r.label(), " |");
    for (double a : r.accuracy_after()) absl::StrAppendFormat(&md, " %.1f |", a);
    md += "\n";
  }
  const auto& d = result.dictionary();
  absl::StrAppendFormat(
      &md,
      "\nTexture dictionary: %d textures per class, %d px, feature network %s (%.1f%% clean on "
      "these images; weights %s), `%s` (%s).\n\n![accuracy vs patches](tpa_accuracy_vs_patches.svg)\n",
      d.textures_per_class(), d.texture_size(), d.feature_network(),
      d.feature_network_clean_accuracy(), d.feature_weights_sha256().substr(0, 16), d.dir(),
      absl::StrFormat("%s; built in %.0f s", d.reused() ? "reused from the store" : "built now",
                      d.build_seconds()));
  for (const auto& r : result.rows()) {
    if (r.example_files_size() == 0) continue;
    absl::StrAppend(&md, "\n", r.label(), ", clean | attacked:\n\n");
    for (const auto& f : r.example_files()) absl::StrAppend(&md, "![", f, "](", f, ") ");
    md += "\n";
  }
  return md;
}

}  // namespace robustness
