// TextTable: outboxctl's human output, an aligned table. Columns are separated by two spaces;
// a column whose every cell is a number (or "-") is right-aligned, the others left-aligned. The
// last column is never padded, so a long error message at the end of a row does not widen the
// table.
//
// THREADING: thread-compatible value type.
#ifndef OUTBOXD_CTL_TEXT_TABLE_H_
#define OUTBOXD_CTL_TEXT_TABLE_H_

#include <string>
#include <vector>

namespace outboxd {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header) : header_(std::move(header)) {}

  // REQUIRES: cells.size() <= header size (missing cells print empty).
  void AddRow(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }

  // The header line and one line per row, each ending with '\n'; trailing spaces trimmed.
  std::string ToString() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace outboxd

#endif  // OUTBOXD_CTL_TEXT_TABLE_H_
