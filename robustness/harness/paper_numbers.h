// The paper's numbers, from the one checked-in table paper_numbers.pbtxt (sources in
// ../shared/PAPER.md), compiled into the binary so every experiment's "paper" column reads the
// same facts on any machine.
#ifndef ROBUSTNESS_HARNESS_PAPER_NUMBERS_H_
#define ROBUSTNESS_HARNESS_PAPER_NUMBERS_H_

#include <optional>
#include <string>

#include "robustness/harness/paper_numbers.pb.h"

namespace robustness {

// Every entry; parsed once (CHECK-fails on a malformed checked-in table: a build defect that
// paper_numbers_test catches first).
const harness::PaperNumbers& PaperTable();

// The entry of (table, row, column), if the paper has one.
std::optional<harness::PaperNumber> FindPaperNumber(const std::string& table,
                                                    const std::string& row,
                                                    const std::string& column);

// "76.9", "13.5 (unconfirmed)" when the entry carries a note, or "-" when there is none.
std::string PaperCell(const std::string& table, const std::string& row, const std::string& column);

}  // namespace robustness

#endif  // ROBUSTNESS_HARNESS_PAPER_NUMBERS_H_
