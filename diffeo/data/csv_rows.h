#pragma once
// The rows of a comma-separated text file, split into cells: shared by the
// table reader (read_csv) and the image-label reader (read_labels_csv).

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

namespace diffeo::data {

/// Calls `row(line, cells)` for every non-blank line of the CSV text `text`,
/// in order: `line` is the 1-based line number, `cells` the line split at
/// each comma, each cell trimmed of blanks.  A UTF-8 byte-order mark at the
/// start and CRLF line ends are accepted; quoted cells are not (a comma
/// always separates).  The cells view `text` and are valid during the call.
void for_each_csv_row(
    std::string_view text,
    const std::function<void(int64_t line, const std::vector<std::string_view>& cells)>& row);

}  // namespace diffeo::data
