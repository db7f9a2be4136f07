#include "diffeo/data/table.h"

#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <string_view>
#include <vector>

#include "diffeo/core/atomic_file.h"
#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"
#include "diffeo/core/read_file.h"
#include "diffeo/data/csv_rows.h"
#include "diffeo/data/npy.h"

namespace diffeo::data {
namespace {

// The whole trimmed cell must be a number (from_chars: locale-independent,
// accepts nan/inf, which the caller refuses with a count).
bool parse_number(std::string_view cell, double& value) {
  if (!cell.empty() && cell.front() == '+') cell.remove_prefix(1);
  if (cell.empty()) return false;
  const auto [end, error] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
  return error == std::errc() && end == cell.data() + cell.size();
}

std::string bad_cell_message(std::string_view cell) {
  if (cell.empty()) return "the cell is empty";
  std::string message = "'" + std::string(cell) + "' is not a number";
  if (cell.find_first_of(";\t") != std::string_view::npos)
    message += " (cells must be separated by commas)";
  return message;
}

void check_table(const torch::Tensor& table, const std::string& where) {
  check_floating(table, "table", where);
  if (table.dim() != 2)
    throw Error(where + ": argument 'table' must be 2-D [rows, columns], got shape " +
                shape_string(table.sizes()));
}

template <typename T>
void write_csv_rows(const torch::Tensor& table, std::ostream& out) {
  const int64_t rows = table.size(0), columns = table.size(1);
  const T* data = table.data_ptr<T>();
  std::string buffer;
  char number[64];
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < columns; ++c) {
      if (c > 0) buffer += ',';
      // Shortest text that reads back as the same value of type T.
      const auto result = std::to_chars(number, number + sizeof(number), data[r * columns + c]);
      buffer.append(number, result.ptr);
    }
    buffer += '\n';
    if (buffer.size() > (1 << 20)) {
      out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      buffer.clear();
    }
  }
  out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
}

// The position of a flat index in a [rows, columns] table, 1-based.
std::string npy_position(int64_t index, int64_t columns) {
  return "row " + std::to_string(index / columns + 1) + ", column " +
         std::to_string(index % columns + 1);
}

// Refuses NaN and infinite values, naming their count and the first one's
// (1-based) row and column, or drops the rows holding them.
void handle_non_finite(TableRead& read, const ReadOptions& options, const std::string& where) {
  const auto& table = read.table;
  read.rows = table.size(0);
  const auto bad = torch::isfinite(table).logical_not();
  read.non_finite_values = bad.sum().item<int64_t>();
  if (read.non_finite_values == 0) return;
  const int64_t first = bad.flatten().nonzero()[0][0].item<int64_t>();
  read.first_non_finite = npy_position(first, table.size(1));
  read.first_dropped_row = "row " + std::to_string(first / table.size(1) + 1);
  if (!options.drop_nonfinite())
    throw Error(where + " has " + std::to_string(read.non_finite_values) +
                " NaN or infinite values; the first at " + read.first_non_finite);
  const auto keep = bad.any(1).logical_not().nonzero().squeeze(1);
  read.dropped_rows = read.rows - keep.size(0);
  read.table = table.index_select(0, keep);
}

// After dropping: a table with no rows left is refused.
void require_rows_left(const TableRead& read, const std::string& where) {
  if (read.table.size(0) > 0) return;
  throw Error(where + " has no finite rows: all " + std::to_string(read.rows) +
              " data rows hold NaN or infinite values (the first at " + read.first_non_finite +
              "); nothing is left to read");
}

}  // namespace

bool has_extension(const std::string& path, const std::string& extension) {
  if (path.size() < extension.size()) return false;
  for (size_t i = 0; i < extension.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(path[path.size() - extension.size() + i])) !=
        std::tolower(static_cast<unsigned char>(extension[i])))
      return false;
  return true;
}

torch::Tensor read_csv(const std::string& path) { return read_csv(path, ReadOptions()).table; }

TableRead read_csv(const std::string& path, const ReadOptions& options) {
  const std::string where = "read_csv: " + quoted(path);
  const std::string text = read_file(path, "read_csv");
  TableRead read;
  std::vector<double> values;
  int64_t columns = -1, first_line = 0, kept = 0;
  for_each_csv_row(text, [&](int64_t line, const std::vector<std::string_view>& cells) {
    if (columns < 0) {
      columns = static_cast<int64_t>(cells.size());
      first_line = line;
      double ignored;
      bool any_number = false;
      for (auto cell : cells) any_number = any_number || parse_number(cell, ignored);
      if (!any_number) {           // a header
        for (auto cell : cells) {  // "x" -> x: names as spreadsheets quote them
          if (cell.size() >= 2 && cell.front() == '"' && cell.back() == '"')
            cell = cell.substr(1, cell.size() - 2);
          read.header.emplace_back(cell);
        }
        return;
      }
    }
    if (static_cast<int64_t>(cells.size()) != columns)
      throw Error(where + " line " + std::to_string(line) + " has " + std::to_string(cells.size()) +
                  " cells, expected " + std::to_string(columns) + " (as on line " +
                  std::to_string(first_line) + ")");
    bool finite_row = true;
    for (size_t c = 0; c < cells.size(); ++c) {
      double value;
      const auto at = [&] {
        return "line " + std::to_string(line) + ", column " + std::to_string(c + 1);
      };
      if (!parse_number(cells[c], value))
        throw Error(where + " " + at() + ": " + bad_cell_message(cells[c]));
      if (!std::isfinite(value)) {
        finite_row = false;
        if (read.non_finite_values++ == 0) {
          read.first_non_finite = at() + " ('" + std::string(cells[c]) + "')";
          read.first_dropped_row = "line " + std::to_string(line);
        }
      }
      values.push_back(value);
    }
    ++read.rows;
    if (finite_row || !options.drop_nonfinite()) {
      ++kept;
    } else {
      values.resize(values.size() - cells.size());
      ++read.dropped_rows;
    }
  });
  if (columns < 0)
    throw Error(where + " is empty (no rows); expected comma-separated numbers, one row a line");
  if (read.rows == 0)
    throw Error(where + " has a header (line " + std::to_string(first_line) +
                ") but no data rows; expected rows of numbers below it");
  if (read.non_finite_values > 0 && !options.drop_nonfinite())
    throw Error(where + " has " + std::to_string(read.non_finite_values) +
                " NaN or infinite cells; the first at " + read.first_non_finite);
  read.table = torch::tensor(values, torch::kFloat64).reshape({kept, columns});
  require_rows_left(read, where);
  return read;
}

torch::Tensor read_npy(const std::string& path) { return read_npy(path, ReadOptions()).table; }

TableRead read_npy(const std::string& path, const ReadOptions& options) {
  const std::string where = "read_npy: " + quoted(path);
  const std::string bytes = read_file(path, "read_npy");
  const NpyHeader header = parse_npy_header(bytes, where);
  torch::Dtype dtype;
  if (header.descr == "'<f4'") {
    dtype = torch::kFloat32;
  } else if (header.descr == "'<f8'") {
    dtype = torch::kFloat64;
  } else {
    const bool big_endian = header.descr.size() > 1 && header.descr[1] == '>';
    throw Error(where + " has " + (big_endian ? "big-endian " : "") + "dtype " + header.descr +
                "; expected little-endian float32 ('<f4') or float64 ('<f8')");
  }
  const auto& shape = header.shape;
  if (shape.size() != 2)
    throw Error(where + " holds an array of shape " + header.shape_text +
                "; expected a 2-D array (rows, columns)");
  if (shape[0] == 0 || shape[1] == 0)
    throw Error(where + " holds an empty array " + header.shape_text);
  const uint64_t element_size = dtype == torch::kFloat32 ? 4 : 8;
  const char* data = npy_data(bytes, header, element_size,
                              dtype == torch::kFloat32 ? "float32" : "float64", where);
  auto table = torch::empty(shape, dtype);
  std::memcpy(table.data_ptr(), data, table.numel() * element_size);
  TableRead read;
  read.table = table;
  handle_non_finite(read, options, where);
  require_rows_left(read, where);
  return read;
}

torch::Tensor read_table(const std::string& path) { return read_table(path, ReadOptions()).table; }

TableRead read_table(const std::string& path, const ReadOptions& options) {
  if (has_extension(path, ".csv")) return read_csv(path, options);
  if (has_extension(path, ".npy")) return read_npy(path, options);
  throw Error("read_table: " + quoted(path) + " is neither a .csv nor a .npy file");
}

void write_csv(const torch::Tensor& table, const std::string& path) {
  check_table(table, "write_csv");
  const auto values = table.detach().cpu().contiguous();
  write_atomically(path, "write_csv", [&](std::ostream& out) {
    if (values.scalar_type() == torch::kFloat32) {
      write_csv_rows<float>(values, out);
    } else {
      write_csv_rows<double>(values.to(torch::kFloat64), out);
    }
  });
}

void write_npy(const torch::Tensor& table, const std::string& path) {
  check_table(table, "write_npy");
  if (table.scalar_type() != torch::kFloat32 && table.scalar_type() != torch::kFloat64)
    throw Error("write_npy: argument 'table' must be float32 or float64, got " +
                std::string(c10::toString(table.scalar_type())));
  write_npy_array(table, path, "write_npy");
}

void write_table(const torch::Tensor& table, const std::string& path) {
  if (has_extension(path, ".csv")) return write_csv(table, path);
  if (has_extension(path, ".npy")) return write_npy(table, path);
  throw Error("write_table: " + quoted(path) + " is neither a .csv nor a .npy file");
}

}  // namespace diffeo::data
