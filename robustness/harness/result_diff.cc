#include "robustness/harness/result_diff.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace robustness {
namespace {

using google::protobuf::Value;

const std::set<std::string>& SkippedKeys() {
  static const auto* keys = new std::set<std::string>{
      "seconds", "images_per_second", "train_seconds", "eval_seconds", "model_dir", "reused"};
  return *keys;
}

std::string Show(const Value& v) {
  switch (v.kind_case()) {
    case Value::kNumberValue: return absl::StrFormat("%.17g", v.number_value());
    case Value::kStringValue: return absl::StrCat("\"", v.string_value(), "\"");
    case Value::kBoolValue: return v.bool_value() ? "true" : "false";
    case Value::kNullValue: return "null";
    case Value::kListValue: return absl::StrCat("[", v.list_value().values_size(), " items]");
    case Value::kStructValue: return "{...}";
    default: return "?";
  }
}

void Diff(const Value& got, const Value& want, const std::string& path, const std::string& key,
          const ResultTolerance& tol, std::vector<std::string>* out) {
  if (got.kind_case() != want.kind_case()) {
    out->push_back(absl::StrCat(path, ": got ", Show(got), ", golden ", Show(want)));
    return;
  }
  switch (want.kind_case()) {
    case Value::kStructValue: {
      const auto& g = got.struct_value().fields();
      const auto& w = want.struct_value().fields();
      std::vector<std::string> keys;  // sorted: the report reads the same on every run
      for (const auto& entry : w) keys.push_back(entry.first);
      std::sort(keys.begin(), keys.end());
      for (const std::string& k : keys) {
        const Value& v = w.at(k);
        if (SkippedKeys().count(k)) continue;
        if (!tol.exact && (absl::StrContains(k, "sha256") || k == "fingerprint")) continue;
        auto it = g.find(k);
        if (it == g.end()) {
          out->push_back(absl::StrCat(path, ".", k, ": missing (golden ", Show(v), ")"));
          continue;
        }
        Diff(it->second, v, absl::StrCat(path, ".", k), k, tol, out);
      }
      std::vector<std::string> extra;
      for (const auto& entry : g) {
        if (!w.count(entry.first) && !SkippedKeys().count(entry.first)) extra.push_back(entry.first);
      }
      std::sort(extra.begin(), extra.end());
      for (const std::string& k : extra) {
        out->push_back(
            absl::StrCat(path, ".", k, ": not in the golden file (got ", Show(g.at(k)), ")"));
      }
      return;
    }
    case Value::kListValue: {
      const auto& g = got.list_value().values();
      const auto& w = want.list_value().values();
      if (g.size() != w.size()) {
        out->push_back(absl::StrCat(path, ": ", g.size(), " items, golden ", w.size()));
        return;
      }
      for (int i = 0; i < w.size(); ++i) {
        Diff(g[i], w[i], absl::StrCat(path, "[", i, "]"), key, tol, out);
      }
      return;
    }
    case Value::kNumberValue: {
      const double a = got.number_value(), b = want.number_value();
      bool same = a == b;
      if (!same && !tol.exact) {
        if (absl::EndsWith(key, "accuracy")) {
          same = std::abs(a - b) <= tol.accuracy_points;
        } else if (absl::StrContains(key, "loss")) {
          same = std::abs(a - b) <= tol.loss_relative * std::abs(b);
        } else {
          same = std::abs(a - b) <= tol.other_relative * std::max(std::abs(b), 1e-12);
        }
      }
      if (!same) out->push_back(absl::StrCat(path, ": got ", Show(got), ", golden ", Show(want)));
      return;
    }
    default:
      if (got.SerializeAsString() != want.SerializeAsString()) {
        out->push_back(absl::StrCat(path, ": got ", Show(got), ", golden ", Show(want)));
      }
  }
}

}  // namespace

absl::StatusOr<std::vector<std::string>> DiffResults(const std::string& got_json,
                                                     const std::string& golden_json,
                                                     const ResultTolerance& tolerance) {
  Value got, want;
  if (!google::protobuf::util::JsonStringToMessage(got_json, &got).ok()) {
    return absl::InvalidArgumentError("the run's results.json is not valid JSON");
  }
  if (!google::protobuf::util::JsonStringToMessage(golden_json, &want).ok()) {
    return absl::InvalidArgumentError("the golden file is not valid JSON");
  }
  std::vector<std::string> diffs;
  Diff(got, want, "$", "", tolerance, &diffs);
  return diffs;
}

}  // namespace robustness
