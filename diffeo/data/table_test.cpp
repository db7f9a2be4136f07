// CSV and NPY tables: exact round trips in float32 and float64, header and
// line-ending detection, byte-exact NPY headers, and every error message
// (naming the file and the line/column, row/column or count at fault).

#include "diffeo/data/table.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>

#include "diffeo/testing/expect_error.h"

namespace diffeo::data {
namespace {

using testing::expect_error;
namespace fs = std::filesystem;

class TableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("diffeo_table_test." + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string write(const std::string& name, const std::string& content) const {
    std::ofstream(path(name), std::ios::binary) << content;
    return path(name);
  }
  std::string read(const std::string& name) const {
    std::ifstream in(path(name), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  // An NPY file: magic, version, header length and a header padded like numpy's.
  std::string npy(const std::string& name, const std::string& dict, const std::string& data,
                  int major = 1, int minor = 0) const {
    const size_t length_width = major == 1 ? 2 : 4;
    std::string header = dict;
    header += std::string((64 - (8 + length_width + header.size() + 1) % 64) % 64, ' ') + "\n";
    std::string bytes = "\x93NUMPY";
    bytes += static_cast<char>(major);
    bytes += static_cast<char>(minor);
    for (size_t i = 0; i < length_width; ++i)
      bytes += static_cast<char>((header.size() >> (8 * i)) & 0xff);
    return write(name, bytes + header + data);
  }
  std::vector<std::string> files() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_))
      names.push_back(entry.path().filename().string());
    return names;
  }

  fs::path dir_;
};

std::string doubles(std::initializer_list<double> values) {
  std::string bytes(values.size() * sizeof(double), '\0');
  std::memcpy(bytes.data(), values.begin(), bytes.size());
  return bytes;
}

TEST_F(TableTest, CsvRoundTripIsExactInBothDtypes) {
  torch::manual_seed(0);
  for (auto dtype : {torch::kFloat32, torch::kFloat64}) {
    auto table = torch::randn({50, 3}, dtype) * torch::tensor({1e-30, 1.0, 1e30}, dtype);
    table[0][0] = -0.0;
    table[1][1] = 1.0 / 3;
    write_csv(table, path("t.csv"));
    const auto back = read_csv(path("t.csv"));
    EXPECT_EQ(back.scalar_type(), torch::kFloat64);
    // float32 text is the shortest that reads back as the same float32.
    EXPECT_TRUE(torch::equal(back.to(dtype), table)) << dtype;
  }
  EXPECT_EQ(files(), std::vector<std::string>{"t.csv"});  // no temporary left behind
}

TEST_F(TableTest, CsvWritesOneRowPerLineWithoutHeader) {
  write_csv(torch::tensor({{1.5, -2.0}, {0.25, 1e10}}, torch::kFloat64), path("t.csv"));
  EXPECT_EQ(read("t.csv"), "1.5,-2\n0.25,1e+10\n");
}

TEST_F(TableTest, CsvDetectsHeaderAndToleratesBlankLinesCrlfAndBom) {
  const auto expected = torch::tensor({{1.0, 2.0}, {-3.0, 4e-3}}, torch::kFloat64);
  for (const std::string content : {"x,y\n1,2\n-3,4e-3\n", "1,2\n-3,4e-3",
                                    "\xEF\xBB\xBF\"x\", \"y\"\r\n\r\n 1 , +2 \r\n-3,0.004\r\n\n",
                                    "\n\nx1,x2\n1,2\n\n-3,4e-3\n\n"}) {
    EXPECT_TRUE(torch::equal(read_csv(write("t.csv", content)), expected)) << content;
  }
  // The header's names, unquoted; none without a header.
  using Names = std::vector<std::string>;
  EXPECT_EQ(read_csv(write("t.csv", "x,y\n1,2\n"), ReadOptions()).header, (Names{"x", "y"}));
  EXPECT_EQ(read_csv(write("t.csv", "\"x\", \"y z\"\n1,2\n"), ReadOptions()).header,
            (Names{"x", "y z"}));
  EXPECT_TRUE(read_csv(write("t.csv", "1,2\n"), ReadOptions()).header.empty());
  // One column, and a header that only starts with letters.
  EXPECT_TRUE(torch::equal(read_csv(write("t.csv", "value\n7\n8\n")),
                           torch::tensor({{7.0}, {8.0}}, torch::kFloat64)));
}

TEST_F(TableTest, CsvErrorsNameFileLineAndColumn) {
  const auto p = write("bad.csv", "x,y\n1,2\n3,abc\n");
  expect_error([&] { read_csv(p); },
               {"read_csv", "bad.csv", "line 3, column 2", "'abc'", "is not a number"});
  // A first row with one number is data, so its text cell is an error, not a header.
  expect_error([&] { read_csv(write("t.csv", "1,abc\n3,4\n")); },
               {"line 1, column 2", "'abc' is not a number"});
  expect_error([&] { read_csv(write("t.csv", "1,2\n\n3,\n")); },
               {"line 3, column 2", "the cell is empty"});
  // "x;y" reads as a one-column header; the first data row then fails.
  expect_error([&] { read_csv(write("t.csv", "x;y\n3;4\n")); },
               {"line 2, column 1", "'3;4' is not a number", "separated by commas"});
}

TEST_F(TableTest, CsvRaggedRowsNameLineAndCounts) {
  expect_error([&] { read_csv(write("t.csv", "a,b,c\n1,2,3\n\n4,5\n")); },
               {"'", "t.csv", "line 4 has 2 cells, expected 3 (as on line 1)"});
  expect_error([&] { read_csv(write("t.csv", "1,2\n3,4,5\n")); },
               {"line 2 has 3 cells, expected 2 (as on line 1)"});
}

TEST_F(TableTest, CsvRefusesEmptyMissingAndHeaderOnlyFiles) {
  expect_error([&] { read_csv(write("e.csv", "")); }, {"e.csv", "is empty (no rows)"});
  expect_error([&] { read_csv(write("e.csv", "\n  \n\r\n")); }, {"is empty (no rows)"});
  expect_error([&] { read_csv(write("h.csv", "\nx,y\n\n")); },
               {"h.csv", "has a header (line 2) but no data rows"});
  expect_error([&] { read_csv(path("missing.csv")); },
               {"read_csv", "cannot open", "missing.csv", "missing or unreadable"});
}

TEST_F(TableTest, CsvRefusesNonFiniteCellsWithCountAndFirstPosition) {
  expect_error([&] { read_csv(write("n.csv", "x,y\n1,2\n3,nan\ninf,-inf\n")); },
               {"n.csv", "has 3 NaN or infinite cells", "the first at line 3, column 2 ('nan')"});
}

TEST_F(TableTest, DropNonfiniteDropsRowsAndSaysWhichWereDropped) {
  const auto p = write("n.csv", "x,y\n1,2\n3,nan\n\n5,6\ninf,-inf\n7,8\n");
  const auto csv = read_csv(p, ReadOptions().drop_nonfinite(true));
  EXPECT_TRUE(torch::equal(csv.table, torch::tensor({{1.0, 2.0}, {5.0, 6.0}, {7.0, 8.0}},
                                                    torch::kFloat64)));
  EXPECT_EQ(csv.rows, 5);
  EXPECT_EQ(csv.dropped_rows, 2);
  EXPECT_EQ(csv.non_finite_values, 3);
  EXPECT_EQ(csv.first_non_finite, "line 3, column 2 ('nan')");
  EXPECT_EQ(csv.first_dropped_row, "line 3");
  // Without the option (the default, and the one-argument reader) the file is refused.
  for (const auto& read : std::vector<std::function<void()>>{
           [&] { read_csv(p, ReadOptions()); }, [&] { read_csv(p); }, [&] { read_table(p); }})
    expect_error(read, {"n.csv", "has 3 NaN or infinite cells", "line 3, column 2 ('nan')"});

  const std::string f8 = "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }";
  const auto q = npy("n.npy", f8, doubles({1, 2, 3, -INFINITY, NAN, NAN}));
  const auto npy_read = read_table(q, ReadOptions().drop_nonfinite(true));
  EXPECT_TRUE(torch::equal(npy_read.table, torch::tensor({{1.0, 2.0}}, torch::kFloat64)));
  EXPECT_EQ(npy_read.rows, 3);
  EXPECT_EQ(npy_read.dropped_rows, 2);
  EXPECT_EQ(npy_read.non_finite_values, 3);
  EXPECT_EQ(npy_read.first_non_finite, "row 2, column 2");
  EXPECT_EQ(npy_read.first_dropped_row, "row 2");
  expect_error([&] { read_npy(q); }, {"n.npy", "has 3 NaN or infinite values", "row 2, column 2"});

  // A clean file: nothing dropped, nothing to report.
  const auto clean = read_csv(write("c.csv", "1,2\n3,4\n"), ReadOptions().drop_nonfinite(true));
  EXPECT_EQ(clean.table.size(0), 2);
  EXPECT_EQ(clean.dropped_rows, 0);
  EXPECT_TRUE(clean.first_non_finite.empty());
}

TEST_F(TableTest, DropNonfiniteStillRefusesAFileWithNoFiniteRowAndOtherFaults) {
  const ReadOptions drop = ReadOptions().drop_nonfinite(true);
  expect_error([&] { read_csv(write("a.csv", "x,y\nnan,1\n2,inf\n"), drop); },
               {"a.csv", "has no finite rows: all 2 data rows hold NaN or infinite values",
                "the first at line 2, column 1 ('nan')"});
  expect_error(
      [&] {
        read_npy(npy("a.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }",
                     std::string("\x00\x00\xc0\x7f", 4)),
                 drop);
      },
      {"a.npy", "has no finite rows: all 1 data rows", "row 1, column 1"});
  // Dropping is about non-finite numbers only: text cells and ragged rows still fail.
  expect_error([&] { read_csv(write("b.csv", "1,2\nnan,abc\n"), drop); },
               {"line 2, column 2: 'abc' is not a number"});
  expect_error([&] { read_csv(write("r.csv", "1,2\nnan\n"), drop); },
               {"line 2 has 1 cells, expected 2"});
  expect_error([&] { read_csv(write("e.csv", ""), drop); }, {"is empty (no rows)"});
  fs::create_directory(path("d.csv"));
  expect_error([&] { read_table(path("d.csv"), drop); }, {"d.csv", "it is a directory"});
}

TEST_F(TableTest, NpyRoundTripKeepsDtypeAndValues) {
  torch::manual_seed(1);
  for (auto dtype : {torch::kFloat32, torch::kFloat64}) {
    const auto table = torch::randn({7, 3}, dtype);
    write_npy(table, path("t.npy"));
    const auto back = read_npy(path("t.npy"));
    EXPECT_EQ(back.scalar_type(), dtype);
    EXPECT_TRUE(torch::equal(back, table));
  }
  // A transposed (non-contiguous) view is written in C order.
  const auto t = torch::arange(6, torch::kFloat64).reshape({2, 3}).t();
  write_npy(t, path("t.npy"));
  EXPECT_TRUE(torch::equal(read_npy(path("t.npy")), t));
  EXPECT_EQ(files(), std::vector<std::string>{"t.npy"});
}

TEST_F(TableTest, NpyHeaderIsNumpysVersion1LayoutAlignedTo64) {
  write_npy(torch::zeros({3, 2}, torch::kFloat32), path("t.npy"));
  const std::string bytes = read("t.npy");
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }";
  ASSERT_EQ(bytes.size(), 128u + 3 * 2 * 4);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  EXPECT_EQ(static_cast<unsigned char>(bytes[8]) + 256 * static_cast<unsigned char>(bytes[9]), 118);
  EXPECT_EQ(bytes.substr(10, dict.size()), dict);
  EXPECT_EQ(bytes[127], '\n');
}

TEST_F(TableTest, NpyReadsVersion2Headers) {
  const auto p = npy("v2.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 1), }",
                     doubles({0.5, -7.0}), 2, 0);
  EXPECT_TRUE(torch::equal(read_npy(p), torch::tensor({{0.5}, {-7.0}}, torch::kFloat64)));
}

TEST_F(TableTest, NpyErrorsNameTheProblem) {
  const std::string f8 = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }";
  expect_error([&] { read_npy(write("x.npy", "1,2\n")); },
               {"read_npy", "x.npy", "is not an NPY file"});
  expect_error(
      [&] {
        read_npy(npy("v3.npy", f8, doubles({1, 2, 3, 4}), 3, 0));
      },
      {"v3.npy", "has NPY format version 3.0; expected 1.0 or 2.0"});
  expect_error(
      [&] {
        read_npy(npy("i.npy", "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 2), }",
                     doubles({1, 2, 3, 4})));
      },
      {"i.npy", "has dtype '<i8'; expected little-endian float32 ('<f4') or float64 ('<f8')"});
  expect_error(
      [&] {
        read_npy(npy("b.npy", "{'descr': '>f8', 'fortran_order': False, 'shape': (2, 2), }",
                     doubles({1, 2, 3, 4})));
      },
      {"has big-endian dtype '>f8'"});
  expect_error(
      [&] {
        read_npy(npy("f.npy", "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }",
                     doubles({1, 2, 3, 4})));
      },
      {"f.npy", "Fortran-order"});
  expect_error(
      [&] {
        read_npy(npy("r.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }",
                     doubles({1, 2, 3, 4})));
      },
      {"r.npy", "shape (4,); expected a 2-D array"});
  expect_error(
      [&] {
        read_npy(npy("z.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 2), }", ""));
      },
      {"z.npy", "holds an empty array (0, 2)"});
  expect_error(
      [&] {
        read_npy(npy("t.npy", f8, doubles({1, 2, 3})));
      },
      {"t.npy", "is truncated: a (2, 2) float64 array needs 32 bytes of data, found 24"});
  expect_error(
      [&] { read_npy(write("h.npy", std::string("\x93NUMPY\x01\x00\x76\x00{'descr'", 17))); },
      {"h.npy", "is truncated (inside its header)"});
  expect_error(
      [&] {
        read_npy(npy("n.npy", f8, doubles({1, NAN, 3, INFINITY})));
      },
      {"n.npy", "has 2 NaN or infinite values; the first at row 1, column 2"});
  expect_error([&] { read_npy(path("missing.npy")); }, {"cannot open", "missing.npy"});
}

TEST_F(TableTest, WritersRefuseBadTablesAndLeaveNoPartialFile) {
  expect_error([&] { write_csv(torch::zeros({3}), path("t.csv")); },
               {"write_csv", "'table' must be 2-D", "[3]"});
  expect_error(
      [&] {
        write_npy(torch::zeros({2, 2}, torch::kInt64), path("t.npy"));
      },
      {"write_npy", "'table'"});
  expect_error(
      [&] {
        write_npy(torch::zeros({2, 2}, torch::kFloat16), path("t.npy"));
      },
      {"write_npy", "must be float32 or float64, got Half"});
  const std::string unwritable = path("no/such/dir/t.csv");
  expect_error(
      [&] {
        write_csv(torch::zeros({2, 2}), unwritable);
      },
      {"write_csv", "cannot write", "no/such/dir/t.csv"});
  EXPECT_TRUE(files().empty());
  // A failed write keeps the previous file intact.
  write_csv(torch::ones({1, 1}), path("keep.csv"));
  fs::create_directory(path("dir.csv"));
  expect_error(
      [&] {
        write_csv(torch::zeros({2, 2}), path("dir.csv"));
      },
      {"cannot write", "Is a directory", "dir.csv"});
  EXPECT_EQ(read("keep.csv"), "1\n");
  EXPECT_EQ(files().size(), 2u);
}

TEST_F(TableTest, TableDispatchesOnExtension) {
  const auto table = torch::tensor({{1.0, 2.0}}, torch::kFloat64);
  for (const std::string name : {"t.csv", "T.NPY"}) {
    write_table(table, path(name));
    EXPECT_TRUE(torch::equal(read_table(path(name)), table)) << name;
  }
  expect_error([&] { write_table(table, path("t.txt")); },
               {"write_table", "t.txt", "is neither a .csv nor a .npy file"});
  expect_error([&] { read_table(path("t.txt")); }, {"read_table", "neither a .csv nor a .npy"});
  EXPECT_TRUE(has_extension("a.b.CSV", ".csv"));
  EXPECT_FALSE(has_extension("csv", ".csv"));
}

}  // namespace
}  // namespace diffeo::data
