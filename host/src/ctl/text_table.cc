#include "ctl/text_table.h"

#include <algorithm>

namespace outboxd {
namespace {

bool IsNumber(const std::string& cell) {
  if (cell == "-") return true;
  if (cell.empty()) return false;
  bool digit = false;
  for (size_t i = 0; i < cell.size(); ++i) {
    const char c = cell[i];
    if (c >= '0' && c <= '9') {
      digit = true;
    } else if (!(c == '.' || (c == '-' && i == 0))) {
      return false;
    }
  }
  return digit;
}

}  // namespace

std::string TextTable::ToString() const {
  const size_t columns = header_.size();
  std::vector<size_t> width(columns, 0);
  std::vector<bool> numeric(columns, !rows_.empty());
  for (size_t c = 0; c < columns; ++c) width[c] = header_[c].size();
  for (const auto& row : rows_) {
    for (size_t c = 0; c < columns && c < row.size(); ++c) {
      width[c] = std::max(width[c], row[c].size());
      if (!IsNumber(row[c])) numeric[c] = false;
    }
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t c = 0; c < columns; ++c) {
      const std::string cell = c < cells.size() ? cells[c] : std::string();
      const std::string pad(width[c] - std::min(width[c], cell.size()), ' ');
      if (c > 0) out += "  ";
      if (c + 1 == columns) {
        out += numeric[c] ? pad + cell : cell;
      } else {
        out += numeric[c] ? pad + cell : cell + pad;
      }
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line(header_);
  for (const auto& row : rows_) out += line(row);
  return out;
}

}  // namespace outboxd
