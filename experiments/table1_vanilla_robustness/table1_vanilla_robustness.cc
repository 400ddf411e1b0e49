#include "experiments/table1_vanilla_robustness/table1_vanilla_robustness.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "robustness/augmentation/transform_factory.h"
#include "robustness/base/status_macros.h"
#include "robustness/datasets/dataset_factory.h"
#include "robustness/evaluation/robust_accuracy.h"
#include "robustness/evaluation/svg_line_plot.h"
#include "robustness/harness/paper_numbers.h"
#include "robustness/harness/robustness_table.h"

namespace robustness {

using experiments::Table1Config;
using experiments::Table1Result;

absl::Status ValidateTable1Config(const Table1Config& c, const std::string& source,
                                  const ConfigOrigins& origins) {
  return ValidateRobustnessTable(c, source, origins);
}

absl::StatusOr<Table1Result> RunTable1(const std::string& config_path,
                                       const std::string& output_dir,
                                       const HarnessOptions& options) {
  ASSIGN_OR_RETURN(auto table, (TrainAndAttackTable<Table1Config, Table1Result>(
                                   "table1_vanilla_robustness", config_path, output_dir,
                                   options, /*extra_rules=*/nullptr)));
  const Table1Config& config = table.config;
  const Table1Result& result = table.result;
  ExperimentRun& run = table.run;

  LinePlot plot;
  plot.title = absl::StrCat("Table 1 (", config.name(), "): robust accuracy vs. radius");
  plot.x_label = "L-inf radius epsilon (x 1/255)";
  plot.y_label = "accuracy (%), worst case over attacks";
  for (const harness::ModelResult& m : result.models()) {
    PlotSeries series{m.label(), {{0.0, m.clean_accuracy()}}};
    for (const auto& r : m.robust()) series.points.push_back({255.0 * r.epsilon(), r.robust_accuracy()});
    std::sort(series.points.begin(), series.points.end());
    plot.series.push_back(std::move(series));
  }
  RETURN_IF_ERROR(run.WriteResults(result, RenderTable1Markdown(result),
                                   {{"accuracy_vs_epsilon.svg", RenderSvg(plot)}}));
  return result;
}

namespace {

const harness::RadiusAccuracy* FindRadius(const harness::ModelResult& m, const std::string& label) {
  for (const auto& r : m.robust()) {
    if (r.label() == label) return &r;
  }
  return nullptr;
}

const harness::AutoAttackRadius* FindAutoAttack(const harness::ModelResult& m,
                                                const std::string& label) {
  for (const auto& r : m.auto_attack()) {
    if (r.label() == label) return &r;
  }
  return nullptr;
}

// PAPER.md section 6, claim 1, checked on this run's numbers (computed, never typed in): both
// families collapse at the full budget, and only at 0.001 does the transformer keep more.
// Compared on the accuracy lost to the attack, since the two clean accuracies differ. With
// AutoAttack (the paper's attack) when the run has it at a radius, else the other attacks'
// worst case; the full budget is the paper's 4/255 and, when AutoAttack runs a larger radius,
// its largest (the embedded radius in 4/255's role).
void AppendClaimCheck(const Table1Result& result, std::string* md) {
  const harness::ModelResult *cnn = nullptr, *vit = nullptr;
  for (const auto& m : result.models()) {
    if (m.family() == "CNN" && cnn == nullptr) cnn = &m;
    if (m.family() == "Transformer" && vit == nullptr) vit = &m;
  }
  if (cnn == nullptr || vit == nullptr) return;
  struct Point {
    double clean = 0, robust = 0;
    std::string attack;
  };
  auto point = [](const harness::ModelResult& m, const std::string& label) -> std::optional<Point> {
    if (const auto* a = FindAutoAttack(m, label)) {
      return Point{a->clean_accuracy(), a->robust_accuracy(),
                   absl::StrCat("AutoAttack, ", a->num_images(), " images")};
    }
    if (const auto* r = FindRadius(m, label)) {
      return Point{m.clean_accuracy(), r->robust_accuracy(), "FGSM/PGD worst case"};
    }
    return std::nullopt;
  };
  auto verdict = [](bool holds) { return holds ? "holds" : "does not hold"; };
  std::vector<std::string> full_budget = {"4/255"};
  const harness::AutoAttackRadius* largest = nullptr;
  for (const auto& r : cnn->auto_attack()) {
    if (largest == nullptr || r.epsilon() > largest->epsilon()) largest = &r;
  }
  if (largest != nullptr && largest->epsilon() > 4.0 / 255 + 1e-12) {
    full_budget.push_back(largest->label());
  }
  const auto c_small = point(*cnn, "0.001"), v_small = point(*vit, "0.001");
  if (!c_small || !v_small) return;
  absl::StrAppendFormat(
      md,
      "\n## The paper's claim 1 on this run\n\n"
      "PAPER.md section 6, claim 1: without adversarial training neither family is robust; at "
      "4/255 both drop to 0%%, and only at 0.001 does the transformer keep more. Checked here on "
      "%s vs. %s (clean %.2f vs. %.2f on the evaluation images):\n\n",
      cnn->label(), vit->label(), cnn->clean_accuracy(), vit->clean_accuracy());
  for (const std::string& label : full_budget) {
    const auto c = point(*cnn, label), v = point(*vit, label);
    if (!c || !v) continue;
    absl::StrAppendFormat(md, "* Both collapse at %s (<= 1%%; %s): %s (%.2f and %.2f).\n", label,
                          c->attack, verdict(c->robust <= 1.0 && v->robust <= 1.0), c->robust,
                          v->robust);
  }
  const double c_drop = c_small->clean - c_small->robust, v_drop = v_small->clean - v_small->robust;
  absl::StrAppendFormat(md,
                        "* At 0.001 the transformer loses less to the attack (%s): %s (it loses "
                        "%.2f points, the CNN %.2f).\n",
                        c_small->attack, verdict(v_drop < c_drop), v_drop, c_drop);
}

// Each model's AutoAttack, stage by stage (robust accuracy after each stage, over its images).
void AppendAutoAttackTable(const Table1Result& result, std::string* md) {
  const harness::ModelResult* first = nullptr;
  for (const auto& m : result.models()) {
    if (!m.auto_attack().empty()) {
      first = &m;
      break;
    }
  }
  if (first == nullptr) return;
  const harness::AutoAttackRadius& r0 = first->auto_attack(0);
  absl::StrAppendFormat(md,
                        "\n## AutoAttack (%s, %s), stage by stage\n\nOn the first %d test images; "
                        "each stage runs on the images still robust after the ones before it; "
                        "accuracy after each stage, over all %d (stage times in results.json; "
                        "they count in the training table's attack time).\n\n"
                        "| Model | Radius | Clean |",
                        absl::AsciiStrToLower(r0.version()), r0.norm(), r0.num_images(),
                        r0.num_images());
  for (const auto& s : r0.stages()) absl::StrAppend(md, " ", s.name(), " |");
  absl::StrAppend(md, " Max perturbation |\n| --- | --- | ---: |");
  for (int i = 0; i < r0.stages_size() + 1; ++i) absl::StrAppend(md, " ---: |");
  absl::StrAppend(md, "\n");
  std::vector<std::string> warnings;
  for (const auto& m : result.models()) {
    for (const auto& r : m.auto_attack()) {
      absl::StrAppendFormat(md, "| %s | %s | %.2f |", m.label(), r.label(), r.clean_accuracy());
      for (const auto& s : r.stages()) absl::StrAppendFormat(md, " %.2f |", s.robust_accuracy());
      absl::StrAppendFormat(md, " %.5f |\n", r.max_perturbation());
      for (const auto& w : r.warnings()) {
        warnings.push_back(absl::StrCat(m.label(), ", ", r.label(), ": ", w));
      }
    }
  }
  if (!warnings.empty()) {
    absl::StrAppend(md, "\nWarnings (the reference's checks):\n\n");
    for (const auto& w : warnings) absl::StrAppend(md, "* ", w, "\n");
  }
}

}  // namespace

std::string RenderTable1Markdown(const Table1Result& result) {
  std::string md = absl::StrCat("# Table 1: vanilla models under white-box attack (", result.name(),
                                ")\n\n");
  absl::StrAppend(&md, "Trained on ", result.num_train_images(), " images; evaluated on ",
                  result.num_test_images(),
                  " test images. Robust accuracy is the per-image worst case across the attacks "
                  "listed below. Accuracies in %.\n\n");
  if (result.models().empty()) return md;
  std::vector<std::string> header = {"Model", "Family", "Params", "Clean"};
  for (const auto& r : result.models(0).robust()) header.push_back(absl::StrCat("eps ", r.label()));
  absl::StrAppend(&md, "| ", absl::StrJoin(header, " | "), " |\n|");
  for (size_t i = 0; i < header.size(); ++i) absl::StrAppend(&md, i < 3 ? " --- |" : " ---: |");
  md += "\n";
  for (const harness::ModelResult& m : result.models()) {
    std::vector<std::string> row = {m.label(), m.family(),
                                    absl::StrFormat("%.3fM", m.num_parameters() / 1e6),
                                    absl::StrFormat("%.2f", m.clean_accuracy())};
    for (const auto& r : m.robust()) row.push_back(absl::StrFormat("%.2f", r.robust_accuracy()));
    absl::StrAppend(&md, "| ", absl::StrJoin(row, " | "), " |\n");
  }

  // The paper's columns (PAPER.md Table 1: AutoAttack at 0.001 and 4/255) beside ours:
  // AutoAttack where this run has it at that radius, else the other attacks' worst case.
  absl::StrAppend(&md,
                  "\n## Beside the paper\n\nOurs / the paper's (robustness/harness/"
                  "paper_numbers.pbtxt). The paper's robust columns are AutoAttack (standard, "
                  "L-inf) on ImageNet; ours are AutoAttack on this config's data where it ran at "
                  "that radius (marked AA), else the FGSM/PGD worst case (marked PGD).\n\n"
                  "| Model | Paper's row | Clean | eps 0.001 | eps 4/255 |\n"
                  "| --- | --- | ---: | ---: | ---: |\n");
  for (const harness::ModelResult& m : result.models()) {
    auto ours = [&m](const std::string& label) -> std::string {
      if (const auto* a = FindAutoAttack(m, label)) {
        return absl::StrFormat("%.2f (AA)", a->robust_accuracy());
      }
      if (const auto* r = FindRadius(m, label)) {
        return absl::StrFormat("%.2f (PGD)", r->robust_accuracy());
      }
      return "-";
    };
    const std::string& p = m.paper_row();
    absl::StrAppendFormat(&md, "| %s | %s | %.2f / %s | %s / %s | %s / %s |\n", m.label(),
                          p.empty() ? "-" : p, m.clean_accuracy(), PaperCell("1", p, "clean"),
                          ours("0.001"), PaperCell("1", p, "autoattack_0.001"), ours("4/255"),
                          PaperCell("1", p, "autoattack_4/255"));
  }

  AppendClaimCheck(result, &md);
  AppendAutoAttackTable(result, &md);

  absl::StrAppend(&md, "\n## Each attack alone\n\n| Model | Radius |");
  const auto& first = result.models(0).robust(0);
  for (const auto& a : first.per_attack()) absl::StrAppend(&md, " ", a.attack(), " |");
  absl::StrAppend(&md, " worst case |\n| --- | --- |");
  for (int i = 0; i <= first.per_attack_size(); ++i) md += " ---: |";
  md += "\n";
  for (const harness::ModelResult& m : result.models()) {
    for (const auto& r : m.robust()) {
      absl::StrAppend(&md, "| ", m.label(), " | ", r.label(), " |");
      for (const auto& a : r.per_attack()) absl::StrAppendFormat(&md, " %.2f |", a.accuracy());
      absl::StrAppendFormat(&md, " %.2f |\n", r.robust_accuracy());
    }
  }
  absl::StrAppend(&md,
                  "\n## Training\n\n| Model | Architecture | Epochs | Final train loss | "
                  "Final train acc | Train img/s | Train time (s) | Attack time (s) | Store |\n"
                  "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
  for (const harness::ModelResult& m : result.models()) {
    const auto& last = m.training(m.training_size() - 1);
    double images_per_second = 0;
    for (const auto& e : m.training()) images_per_second += e.images_per_second();
    images_per_second /= m.training_size();
    absl::StrAppendFormat(&md, "| %s | %s | %d | %.4f | %.2f | %.1f | %.1f | %.1f | %s %s |\n",
                          m.label(), m.architecture(), m.training_size(), last.train_loss(),
                          last.train_accuracy(), images_per_second, m.train_seconds(),
                          m.eval_seconds(), m.reused() ? "reused" : "trained",
                          m.fingerprint().substr(0, 16));
  }
  absl::StrAppend(&md, "\nPlot: accuracy_vs_epsilon.svg. Provenance: provenance.pbtxt. Config: "
                       "resolved_config.pbtxt (sha256 ",
                  result.config_sha256(), "). Models: the store folders in results.json.\n");
  return md;
}

}  // namespace robustness
