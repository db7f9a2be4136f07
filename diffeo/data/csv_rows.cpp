#include "diffeo/data/csv_rows.h"

#include <cctype>
#include <string>

namespace diffeo::data {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

void split(std::string_view row, std::vector<std::string_view>& cells) {
  cells.clear();
  for (;;) {
    const size_t comma = row.find(',');
    cells.push_back(trim(row.substr(0, comma)));
    if (comma == std::string_view::npos) return;
    row.remove_prefix(comma + 1);
  }
}

}  // namespace

void for_each_csv_row(
    std::string_view text,
    const std::function<void(int64_t line, const std::vector<std::string_view>& cells)>& row) {
  std::vector<std::string_view> cells;
  int64_t line = 0;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 byte-order mark
  while (!text.empty()) {
    const size_t end = std::min(text.find('\n'), text.size());
    const std::string_view content = text.substr(0, end);
    text.remove_prefix(std::min(text.size(), end + 1));
    ++line;
    if (trim(content).empty()) continue;
    split(content, cells);
    row(line, cells);
  }
}

}  // namespace diffeo::data
