#pragma once
// Numeric tables on disk: CSV and NPY readers and writers for data sets and samples.

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace diffeo::data {

/// How read_csv / read_npy / read_table treat rows holding NaN or infinite values.
struct ReadOptions {
  /// false (the default): such a file is refused with the count and the first
  /// value's position.  true: those rows are dropped, and TableRead says how
  /// many and where the first was; a file left with no rows is still refused.
  TORCH_ARG(bool, drop_nonfinite) = false;
};

/// A table read with ReadOptions: the rows kept and what was dropped.
struct TableRead {
  torch::Tensor table;           ///< [rows kept, columns]
  int64_t rows = 0;              ///< data rows in the file, kept and dropped
  int64_t dropped_rows = 0;      ///< rows dropped for holding a NaN or infinite value
  int64_t non_finite_values = 0; ///< NaN or infinite values in the file
  /// Where the first NaN or infinite value is: "line 7, column 2 ('nan')" in a
  /// CSV file, "row 7, column 2" in an NPY file (1-based); empty when none.
  std::string first_non_finite;
  /// The same row alone: "line 7" or "row 7"; empty when none.
  std::string first_dropped_row;
  /// A CSV file's header cells (trimmed, surrounding double quotes removed),
  /// one per column; empty without a header line and for NPY files.
  std::vector<std::string> header;
};

/// Reads a comma-separated table of numbers into a [rows, columns] float64 CPU
/// tensor.  The first non-blank line is a header, and skipped, when none of its
/// cells is a number; blank lines, a UTF-8 byte-order mark and CRLF line ends
/// are accepted.  Throws diffeo::Error naming the file for a missing file, an
/// empty or header-only file, a cell that is not a number (with its line and
/// column), a row whose cell count differs from the first row's (line,
/// expected and found counts) and NaN or infinite cells (their count and the
/// first one's line and column): a data set with holes is refused, not guessed.
torch::Tensor read_csv(const std::string& path);
/// read_csv, with rows holding NaN or infinite values dropped when `options`
/// says so (then TableRead counts them).
TableRead read_csv(const std::string& path, const ReadOptions& options);

/// Reads a little-endian float32 ('<f4') or float64 ('<f8') 2-D C-order array
/// from an NPY file (format version 1.0 or 2.0) into a [rows, columns] CPU
/// tensor of the file's dtype.  Throws diffeo::Error naming the file for a
/// missing or foreign file, another version, dtype, byte order, rank or
/// Fortran order, a truncated file, an empty array and NaN or infinite values
/// (their count and the first one's row and column).
torch::Tensor read_npy(const std::string& path);
/// read_npy, with rows holding NaN or infinite values dropped when `options` says so.
TableRead read_npy(const std::string& path, const ReadOptions& options);

/// read_csv or read_npy by the path's extension (.csv or .npy); diffeo::Error
/// for any other extension.
torch::Tensor read_table(const std::string& path);
/// read_csv or read_npy with `options`, by the path's extension.
TableRead read_table(const std::string& path, const ReadOptions& options);

/// Writes a 2-D floating-point tensor as CSV without a header, one row a line,
/// with enough digits that reading it back gives the same float32 / float64
/// values.  Like every writer here it writes a temporary file beside `path`
/// and renames it into place, so a failed write never leaves a partial file.
void write_csv(const torch::Tensor& table, const std::string& path);

/// Writes a 2-D float32 or float64 tensor as an NPY version 1.0 file of the
/// same dtype ('<f4' or '<f8'), written atomically like write_csv.
void write_npy(const torch::Tensor& table, const std::string& path);

/// write_csv or write_npy by the path's extension (.csv or .npy); diffeo::Error
/// for any other extension.
void write_table(const torch::Tensor& table, const std::string& path);

/// True when `path` ends in `extension` (e.g. ".csv"), ignoring case.
bool has_extension(const std::string& path, const std::string& extension);

}  // namespace diffeo::data
