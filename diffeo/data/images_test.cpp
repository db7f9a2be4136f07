// Image data: the IDX reader and writer (byte-exact layout, every type, plain
// and gzip, every malformed-file error).

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "diffeo/data/idx.h"
#include "diffeo/testing/expect_error.h"

namespace diffeo::data {
namespace {

using testing::expect_error;
namespace fs = std::filesystem;

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("diffeo_images_test." + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string write(const std::string& name, const std::string& bytes) const {
    std::ofstream(path(name), std::ios::binary) << bytes;
    return path(name);
  }
  std::string read(const std::string& name) const {
    std::ifstream in(path(name), std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  fs::path dir_;
};

// An IDX header: magic, type code, rank and big-endian extents.
std::string header(int code, std::initializer_list<uint32_t> extents) {
  std::string bytes = {0, 0, static_cast<char>(code), static_cast<char>(extents.size())};
  for (uint32_t e : extents)
    for (int shift = 24; shift >= 0; shift -= 8) bytes += static_cast<char>((e >> shift) & 0xff);
  return bytes;
}

// A string literal's bytes, embedded zeros included.
template <size_t N>
std::string bytes(const char (&literal)[N]) {
  return std::string(literal, N - 1);
}

// ---------------------------------------------------------------- IDX

using IdxTest = TempDir;

TEST_F(IdxTest, WritesTheByteExactLayoutAndReadsItBackPlainAndGzipped) {
  const auto t = torch::arange(24, torch::kByte).reshape({2, 3, 4});
  write_idx(t, path("t.idx"));
  std::string expected = header(0x08, {2, 3, 4});
  for (int i = 0; i < 24; ++i) expected += static_cast<char>(i);
  EXPECT_EQ(read("t.idx"), expected);
  EXPECT_TRUE(torch::equal(read_idx(path("t.idx")), t));

  write_idx(t, path("t.idx.gz"));
  EXPECT_EQ(read("t.idx.gz").substr(0, 2), "\x1f\x8b");  // really gzip
  const auto back = read_idx(path("t.idx.gz"));
  EXPECT_EQ(back.scalar_type(), torch::kByte);
  EXPECT_TRUE(torch::equal(back, t));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), {}), 2);  // no temporary left behind
}

TEST_F(IdxTest, ReadsBigEndianValuesOfEveryType) {
  // Hand-encoded: 1.0f = 3f800000, -pi (float32) = c0490fdb; int16 258 = 0102, -2 = fffe.
  const auto f =
      read_idx(write("f.idx", header(0x0D, {2}) + bytes("\x3f\x80\x00\x00\xc0\x49\x0f\xdb")));
  EXPECT_EQ(f.scalar_type(), torch::kFloat);
  EXPECT_EQ(f[0].item<float>(), 1.0f);
  EXPECT_EQ(f[1].item<float>(), -static_cast<float>(M_PI));
  const auto s = read_idx(write("s.idx", header(0x0B, {1, 2}) + "\x01\x02\xff\xfe"));
  EXPECT_EQ(s.scalar_type(), torch::kShort);
  EXPECT_EQ(s.sizes(), torch::IntArrayRef({1, 2}));
  EXPECT_EQ(s[0][0].item<int>(), 258);
  EXPECT_EQ(s[0][1].item<int>(), -2);

  torch::manual_seed(0);
  const auto values = torch::randn({3, 5}, torch::kFloat64) * 1e5;
  for (auto dtype : {torch::kChar, torch::kShort, torch::kInt, torch::kFloat, torch::kDouble}) {
    const auto t = dtype == torch::kChar ? values.clamp(-128, 127).to(dtype) : values.to(dtype);
    write_idx(t, path("t.idx.gz"));
    const auto back = read_idx(path("t.idx.gz"));
    EXPECT_EQ(back.scalar_type(), dtype);
    EXPECT_TRUE(torch::equal(back, t)) << dtype;
  }
  // A zero extent is an empty tensor, not an error.
  EXPECT_EQ(read_idx(write("e.idx", header(0x08, {0, 28}))).sizes(), torch::IntArrayRef({0, 28}));
}

TEST_F(IdxTest, RefusesMalformedFilesNamingTheFileAndTheFault) {
  const std::string four = std::string(4, '\x07');
  expect_error([&] { read_idx(path("missing.idx")); },
               {"read_idx: '", "missing.idx' cannot be opened (missing or unreadable)"});
  expect_error([&] { read_idx(dir_.string()); }, {"cannot be read: Is a directory"});
  expect_error([&] { read_idx(write("empty.idx", "")); },
               {"empty.idx' is truncated: an IDX header starts with 4 bytes, got 0"});
  expect_error([&] { read_idx(write("two.idx", std::string(2, '\0'))); }, {"got 2"});
  expect_error([&] { read_idx(write("magic.idx", "PK\x08\x01" + four)); },
               {"is not an IDX file: its first two bytes must be 0x00 0x00, got 0x50 0x4b"});
  expect_error([&] { read_idx(write("type.idx", header(0x0A, {4}) + four)); },
               {"unknown type code 0x0a; expected 0x08 (uint8), 0x09 (int8)",
                "0x0d (float32) or 0x0e (float64)"});
  expect_error([&] { read_idx(write("rank0.idx", header(0x08, {}))); },
               {"declares 0 dimensions; expected 1 to 8"});
  expect_error(
      [&] {
        read_idx(write("rank9.idx", header(0x08, {1, 1, 1, 1, 1, 1, 1, 1, 1})));
      },
      {"declares 9 dimensions; expected 1 to 8"});
  expect_error(
      [&] {
        read_idx(write("dims.idx", header(0x08, {3, 28}).substr(0, 9)));
      },
      {"is truncated: its header declares 2 dimensions and needs 12 bytes, got 9"});
  expect_error(
      [&] {
        read_idx(write("big.idx", header(0x08, {65536, 32769}) + four));
      },
      {"declares shape [65536, 32769], more than the 2147483648 elements"});
  // Extents whose product overflows 64 bits: refused before any allocation.
  const uint32_t m = 0xffffffff;
  expect_error(
      [&] {
        read_idx(write("huge.idx", header(0x0E, {m, m, m, m, m, m, m, m})));
      },
      {"more than the 2147483648 elements read_idx accepts"});
  // 2^31 float64 elements (16 GiB) declared, 4 bytes present: nothing near 16 GiB allocated.
  expect_error(
      [&] {
        read_idx(write("lie.idx", header(0x0E, {32768, 65536}) + four));
      },
      {"is truncated: shape [32768, 65536] of float64 expected 17179869184 bytes of data,"
       " got 4"});
  expect_error(
      [&] {
        read_idx(write("short.idx", header(0x0C, {2, 3}) + std::string(23, 'x')));
      },
      {"short.idx' is truncated: shape [2, 3] of int32 expected 24 bytes of data, got 23"});
  expect_error([&] { read_idx(write("long.idx", header(0x08, {2}) + "abcde")); },
               {"long.idx' has 3 bytes after its data (shape [2] of uint8 is 2 bytes); expected "
                "the file to end there"});
}

TEST_F(IdxTest, RefusesTruncatedAndCorruptGzipData) {
  write_idx(torch::arange(4000, torch::kInt), path("t.idx.gz"));
  const std::string bytes = read("t.idx.gz");
  write("cut.idx.gz", bytes.substr(0, bytes.size() / 2));
  expect_error([&] { read_idx(path("cut.idx.gz")); },
               {"cut.idx.gz' is a truncated gzip file (unexpected end of file)"});
  std::string corrupt = bytes;
  for (size_t i = 20; i < 40; ++i) corrupt[i] = static_cast<char>(~corrupt[i]);
  write("bad.idx.gz", corrupt);
  expect_error([&] { read_idx(path("bad.idx.gz")); }, {"bad.idx.gz' cannot be read: "});
}

TEST_F(IdxTest, WriteRefusesWhatIdxCannotStore) {
  expect_error([&] { write_idx(torch::zeros({2}, torch::kLong), path("x.idx")); },
               {"write_idx: argument 'tensor' has dtype Long; IDX stores uint8, int8"});
  expect_error([&] { write_idx(torch::zeros({}, torch::kByte), path("x.idx")); },
               {"write_idx: argument 'tensor' has shape []; IDX stores 1 to 8 dimensions"});
  expect_error([&] { write_idx(torch::Tensor(), path("x.idx")); }, {"undefined tensor"});
  expect_error([&] { write_idx(torch::zeros({2}, torch::kByte), path("no/such/dir/x.idx")); },
               {"write_idx: cannot write '", "cannot create a temporary file"});
}

}  // namespace
}  // namespace diffeo::data
