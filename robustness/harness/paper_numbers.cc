#include "robustness/harness/paper_numbers.h"

#include "absl/strings/str_format.h"
#include "glog/logging.h"
#include "google/protobuf/text_format.h"

extern const char kPaperNumbersText[];  // paper_numbers.pbtxt, embedded by the BUILD genrule

namespace robustness {

const harness::PaperNumbers& PaperTable() {
  static const harness::PaperNumbers* table = [] {
    auto* t = new harness::PaperNumbers;
    CHECK(google::protobuf::TextFormat::ParseFromString(kPaperNumbersText, t))
        << "robustness/harness/paper_numbers.pbtxt does not parse";
    return t;
  }();
  return *table;
}

std::optional<harness::PaperNumber> FindPaperNumber(const std::string& table,
                                                    const std::string& row,
                                                    const std::string& column) {
  for (const harness::PaperNumber& n : PaperTable().numbers()) {
    if (n.table() == table && n.row() == row && n.column() == column) return n;
  }
  return std::nullopt;
}

std::string PaperCell(const std::string& table, const std::string& row,
                      const std::string& column) {
  std::optional<harness::PaperNumber> n = FindPaperNumber(table, row, column);
  if (!n.has_value()) return "-";
  return absl::StrFormat("%.1f%s", n->value(), n->note().empty() ? "" : " (unconfirmed)");
}

}  // namespace robustness
