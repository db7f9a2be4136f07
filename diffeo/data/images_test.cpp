// Image data: the IDX reader and writer (byte-exact layout, every type, plain
// and gzip, every malformed-file error), Fashion-MNIST (shapes, class
// histogram, a pixel statistic, layout errors), BatchLoader (each row once per
// epoch, aligned, seeded), dequantisation, bits per dimension and downsampling.

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>

#include "diffeo/data/batch_loader.h"
#include "diffeo/data/dequantize.h"
#include "diffeo/data/fashion_mnist.h"
#include "diffeo/data/idx.h"
#include "diffeo/testing/expect_error.h"
#include "diffeo/testing/temp_dir.h"

namespace diffeo::data {
namespace {

using testing::expect_error;
namespace fs = std::filesystem;

at::Generator generator(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

class TempDir : public testing::TempDirTest {
 protected:
  TempDir() : TempDirTest("diffeo_images_test") {}
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

// ---------------------------------------------------------------- Fashion-MNIST

class FashionMnistTest : public TempDir {
 protected:
  static void SetUpTestSuite() {
    train_ = new ImageSet(fashion_mnist("train"));
    test_ = new ImageSet(fashion_mnist("test"));
  }
  static void TearDownTestSuite() {
    delete train_;
    delete test_;
  }
  // A directory with IDX files for the "test" split holding these tensors.
  std::string fake_split(const torch::Tensor& images, const torch::Tensor& labels) const {
    write_idx(images, path("t10k-images-idx3-ubyte.gz"));
    write_idx(labels, path("t10k-labels-idx1-ubyte"));  // plain files are found too
    return dir_.string();
  }

  static ImageSet* train_;
  static ImageSet* test_;
};
ImageSet* FashionMnistTest::train_ = nullptr;
ImageSet* FashionMnistTest::test_ = nullptr;

TEST_F(FashionMnistTest, TrainSplitHasItsKnownShapeClassesAndStatistics) {
  const auto& [images, labels] = *train_;
  EXPECT_EQ(images.sizes(), torch::IntArrayRef({60000, 1, 28, 28}));
  EXPECT_EQ(images.scalar_type(), torch::kByte);
  EXPECT_EQ(labels.sizes(), torch::IntArrayRef({60000}));
  EXPECT_EQ(labels.scalar_type(), torch::kLong);
  // The data set is balanced: 6000 training images per class.
  EXPECT_TRUE(torch::equal(labels.bincount(), torch::full({10}, 6000, torch::kLong)));
  // Published training-set mean: 72.94 / 255 = 0.2860.
  EXPECT_NEAR(images.to(torch::kDouble).mean().item<double>() / 255, 0.2860, 5e-4);
  // The first image is an ankle boot (label 9) whose pixels sum to 76247 (Python's gzip module).
  EXPECT_EQ(labels[0].item<int64_t>(), 9);
  EXPECT_EQ(images[0].sum().item<int64_t>(), 76247);
}

TEST_F(FashionMnistTest, TestSplitHasItsKnownShapeClassesAndStatistics) {
  const auto& [images, labels] = *test_;
  EXPECT_EQ(images.sizes(), torch::IntArrayRef({10000, 1, 28, 28}));
  EXPECT_EQ(labels.sizes(), torch::IntArrayRef({10000}));
  EXPECT_TRUE(torch::equal(labels.bincount(), torch::full({10}, 1000, torch::kLong)));
  // 73.14656658 / 255 = 0.28684928, computed once from t10k-images-idx3-ubyte.gz with
  // Python's gzip module (an independent reader): mean of all 7,840,000 bytes.
  EXPECT_NEAR(images.to(torch::kDouble).mean().item<double>() / 255, 0.2868, 5e-4);
  EXPECT_TRUE(torch::equal(labels.slice(0, 0, 5), torch::tensor({9, 2, 1, 1, 6}, torch::kLong)));
}

TEST_F(FashionMnistTest, ClassNamesAndDefaultDirectory) {
  const auto& classes = fashion_mnist_classes();
  ASSERT_EQ(classes.size(), 10u);
  EXPECT_EQ(classes[0], "T-shirt/top");
  EXPECT_EQ(classes[5], "Sandal");
  EXPECT_EQ(classes[9], "Ankle boot");
  const char* saved = std::getenv("DIFFEO_FASHION_MNIST");
  const std::string restore = saved ? saved : "";
  ::setenv("DIFFEO_FASHION_MNIST", "/data/fm", 1);
  EXPECT_EQ(default_fashion_mnist_directory(), "/data/fm");
  ::setenv("DIFFEO_FASHION_MNIST", "", 1);  // empty means unset
  EXPECT_EQ(default_fashion_mnist_directory(), "/usr/share/datasets/fashion-mnist");
  saved ? ::setenv("DIFFEO_FASHION_MNIST", restore.c_str(), 1) : ::unsetenv("DIFFEO_FASHION_MNIST");
}

TEST_F(FashionMnistTest, ReadsAnyDirectoryWithTheFourFileNames) {
  const auto images = torch::randint(256, {3, 28, 28}, torch::kByte);
  const auto set =
      fashion_mnist("test", fake_split(images, torch::tensor({0, 9, 4}, torch::kByte)));
  EXPECT_TRUE(torch::equal(set.images, images.unsqueeze(1)));
  EXPECT_TRUE(torch::equal(set.labels, torch::tensor({0, 9, 4}, torch::kLong)));
}

TEST_F(FashionMnistTest, RefusesBadSplitsDirectoriesAndFiles) {
  expect_error([] { fashion_mnist("valid"); },
               {"fashion_mnist: argument 'split' must be one of train, test; got 'valid'"});
  expect_error(
      [&] { fashion_mnist("train", path("nowhere")); },
      {"directory '", "nowhere' does not exist", "dataset-fashion-mnist", "scripts/install-deps"});
  expect_error(
      [&] { fashion_mnist("train", dir_.string()); },
      {"has no train-images-idx3-ubyte.gz (nor train-images-idx3-ubyte)", "dataset-fashion-mnist"});
  const auto image = torch::zeros({2, 28, 28}, torch::kByte);
  expect_error([&] { fashion_mnist("test", fake_split(image, torch::zeros({3}, torch::kByte))); },
               {"split 'test' has 2 images but 3 labels; the counts must be equal"});
  expect_error(
      [&] {
        fashion_mnist("test", fake_split(image, torch::tensor({3, 10}, torch::kByte)));
      },
      {"labels-idx1-ubyte' has 1 labels outside 0..9; the first, at index 1, is 10"});
  expect_error(
      [&] {
        fashion_mnist("test", fake_split(torch::zeros({2, 27, 28}, torch::kByte), image));
      },
      {"images-idx3-ubyte.gz' holds Byte of shape [2, 27, 28]; expected uint8 images [N, 28, 28]"});
  expect_error([&] { fashion_mnist("test", fake_split(image.to(torch::kFloat), image.flatten())); },
               {"holds Float of shape [2, 28, 28]; expected uint8 images"});
  expect_error(
      [&] {
        fashion_mnist("test", fake_split(image, torch::zeros({2, 1}, torch::kByte)));
      },
      {"holds Byte of shape [2, 1]; expected uint8 labels [N]"});
}

// ---------------------------------------------------------------- BatchLoader

// The rows of every batch of one epoch, in order.
std::vector<int64_t> epoch_rows(BatchLoader& loader) {
  std::vector<int64_t> rows;
  for (int64_t b = 0; b < loader.batches_per_epoch(); ++b) {
    const auto batch = loader.next();
    const auto x = batch[0].select(1, 0);
    // The labels (2 * row) travel with their rows.
    EXPECT_TRUE(torch::equal(batch[1], x.to(torch::kLong) * 2));
    for (int64_t i = 0; i < x.size(0); ++i)
      rows.push_back(static_cast<int64_t>(x[i].item<float>()));
  }
  return rows;
}

std::vector<torch::Tensor> numbered_rows(int64_t n) {
  return {torch::arange(n, torch::kFloat).unsqueeze(1).repeat({1, 3}), torch::arange(n) * 2};
}

TEST(BatchLoaderTest, VisitsEveryRowOncePerEpochWithAlignedTensors) {
  BatchLoader loader(numbered_rows(10), 3, /*seed=*/1, /*drop_last=*/false);
  EXPECT_EQ(loader.size(), 10);
  EXPECT_EQ(loader.batches_per_epoch(), 4);
  for (int64_t e = 0; e < 3; ++e) {
    EXPECT_EQ(loader.epoch(), e);
    auto rows = epoch_rows(loader);
    std::sort(rows.begin(), rows.end());
    EXPECT_EQ(rows, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  }
  EXPECT_EQ(loader.epoch(), 3);

  BatchLoader dropping(numbered_rows(10), 3, /*seed=*/1);
  EXPECT_EQ(dropping.batches_per_epoch(), 3);
  const auto rows = epoch_rows(dropping);
  EXPECT_EQ(rows.size(), 9u);
  EXPECT_EQ(std::set<int64_t>(rows.begin(), rows.end()).size(), 9u);  // no repeats
  EXPECT_EQ(dropping.epoch(), 1);
  EXPECT_EQ(dropping.next()[0].size(0), 3);
}

TEST(BatchLoaderTest, IsDeterministicBySeedAndReshufflesEachEpoch) {
  BatchLoader a(numbered_rows(50), 10, 7), b(numbered_rows(50), 10, 7), c(numbered_rows(50), 10, 8);
  const auto a0 = epoch_rows(a), a1 = epoch_rows(a);
  EXPECT_EQ(epoch_rows(b), a0);
  EXPECT_EQ(epoch_rows(b), a1);
  EXPECT_NE(a0, a1);
  EXPECT_NE(epoch_rows(c), a0);
  // The global generator is untouched.
  torch::manual_seed(3);
  const auto before = torch::rand({1}).item<float>();
  torch::manual_seed(3);
  BatchLoader(numbered_rows(50), 10, 7).next();
  EXPECT_EQ(torch::rand({1}).item<float>(), before);
}

TEST(BatchLoaderTest, RefusesInconsistentInput) {
  const auto x = torch::zeros({5, 2});
  expect_error([] { BatchLoader({}, 1, 0); },
               {"BatchLoader: argument 'tensors' is empty; pass at least one tensor"});
  expect_error(
      [&] {
        BatchLoader({x, torch::zeros({4})}, 1, 0);
      },
      {"argument 'tensors[1]' has 4 rows (shape [4]) but 'tensors[0]' has 5"});
  expect_error(
      [&] {
        BatchLoader({x, torch::zeros({})}, 1, 0);
      },
      {"argument 'tensors[1]' is 0-dimensional"});
  expect_error(
      [&] {
        BatchLoader({x, torch::Tensor()}, 1, 0);
      },
      {"argument 'tensors[1]' is an undefined tensor"});
  expect_error([&] { BatchLoader({x}, 0, 0); },
               {"argument 'batch_size' must be in 1..5 (the number of rows), got 0"});
  expect_error([&] { BatchLoader({x}, 6, 0); }, {"must be in 1..5", "got 6"});
}

// ---------------------------------------------------------------- dequantize

TEST(DequantizeTest, FillsEachPixelsCellUniformly) {
  // Every grey level 1000 times; float32 near 255 rounds in steps of 2^-16,
  // so draws of u close to 1 would reach the next cell without the guard.
  const auto x = torch::arange(256, torch::kByte).repeat({1000});
  const auto v = dequantize(x, generator(0));
  EXPECT_EQ(v.scalar_type(), torch::kFloat);
  const auto xf = x.to(torch::kFloat);
  EXPECT_TRUE((v >= xf / 256).all().item<bool>());
  EXPECT_TRUE((v < (xf + 1) / 256).all().item<bool>());
  // u = 256 v - x ~ U[0, 1): mean 1/2 (standard error 0.0006), variance 1/12.
  const auto u = (v.to(torch::kDouble) * 256 - x.to(torch::kDouble));
  EXPECT_NEAR(u.mean().item<double>(), 0.5, 0.003);
  EXPECT_NEAR(u.var().item<double>(), 1.0 / 12, 0.002);
  EXPECT_TRUE(torch::equal(dequantize(x, generator(0)), v));  // reproducible
  EXPECT_FALSE(torch::equal(dequantize(x, generator(1)), v));

  // Other integer dtypes and levels; the default dtype decides the output's.
  c10::set_default_dtype(caffe2::TypeMeta::Make<double>());
  const auto w = dequantize(torch::tensor({0, 1, 2, 3}, torch::kLong), generator(0), 4);
  c10::set_default_dtype(caffe2::TypeMeta::Make<float>());
  EXPECT_EQ(w.scalar_type(), torch::kDouble);
  const auto lower = torch::tensor({0.0, 0.25, 0.5, 0.75}, torch::kDouble);
  EXPECT_TRUE((w >= lower).all().item<bool>() && (w < lower + 0.25).all().item<bool>());
}

TEST(DequantizeTest, RefusesNonIntegerAndOutOfRangePixels) {
  expect_error([] { dequantize(torch::zeros({2}), generator(0)); },
               {"dequantize: argument 'pixels' must be an integer tensor (e.g. uint8), got Float"});
  expect_error([] { dequantize(torch::zeros({2}, torch::kBool), generator(0)); }, {"got Bool"});
  expect_error(
      [] {
        dequantize(torch::tensor({-1, 5, 300, 255}, torch::kShort), generator(0));
      },
      {"must hold integers in 0..255 (levels = 256), but 2 of its 4 values are outside "
       "(min -1, max 300)"});
  expect_error([] { dequantize(torch::tensor({4}, torch::kByte), generator(0), 4); },
               {"integers in 0..3 (levels = 4), but 1 of its 1 values"});
  expect_error([] { dequantize(torch::zeros({2}, torch::kByte), generator(0), 1); },
               {"dequantize: argument 'levels' must be at least 2, got 1"});
}

TEST(BitsPerDimTest, MatchesHandComputations) {
  // The uniform density on the unit cube (log density 0) is 8 bits for 256 levels.
  EXPECT_EQ(bits_per_dim(0.0, 784), 8.0);
  // 2 levels, 1 dim, log density -log 2: (log 2 + log 2) / log 2 = 2 bits.
  EXPECT_DOUBLE_EQ(bits_per_dim(-std::log(2.0), 1, 2), 2.0);
  // 8 + 3 / (784 log 2) = 8.005520516738095 (mean log density -3 nats).
  EXPECT_NEAR(bits_per_dim(-3.0, 784), 8.005520516738095, 1e-12);
  // (-100 + 2 log 256) / (2 log 2) = -64.13475204444818.
  EXPECT_NEAR(bits_per_dim(100.0, 2), -64.13475204444818, 1e-12);
  EXPECT_EQ(bits_per_dim(-std::numeric_limits<double>::infinity(), 3),
            std::numeric_limits<double>::infinity());
  expect_error([] { bits_per_dim(0.0, 0); },
               {"bits_per_dim: argument 'dim' must be positive, got 0"});
  expect_error([] { bits_per_dim(0.0, 4, 1); }, {"argument 'levels' must be at least 2, got 1"});
  expect_error([] { bits_per_dim(std::nan(""), 4); }, {"argument 'mean_log_prob_unit' is NaN"});
}

// ---------------------------------------------------------------- downsample

TEST(DownsampleTest, AveragesBlocksByHand) {
  // Blocks (2 x 2): {0,1,2,3} mean 1.5, {10,10,10,11} 10.25, {255,255,255,254} 254.75, {0,0,0,1}
  // 0.25.
  const auto image = torch::tensor({0, 1, 10, 10,    //
                                    2, 3, 10, 11,    //
                                    255, 255, 0, 0,  //
                                    255, 254, 0, 1},
                                   torch::kByte)
                         .reshape({1, 1, 4, 4});
  const auto bytes = downsample_images(image, 2);
  EXPECT_EQ(bytes.scalar_type(), torch::kByte);
  EXPECT_TRUE(
      torch::equal(bytes, torch::tensor({2, 10, 255, 0}, torch::kByte).reshape({1, 1, 2, 2})));
  const auto floats = downsample_images(image.to(torch::kFloat), 2);
  EXPECT_TRUE(
      torch::equal(floats, torch::tensor({1.5f, 10.25f, 254.75f, 0.25f}).reshape({1, 1, 2, 2})));
  // Factor 4: the whole image, 1067 / 16 = 66.6875 -> 67; factor 1 changes nothing.
  EXPECT_EQ(downsample_images(image, 4).item<int>(), 67);
  EXPECT_TRUE(torch::equal(downsample_images(image, 1), image));
  // Batch dimensions other than [N, C] are kept: [2, 3, 28, 28] -> [2, 3, 7, 7].
  const auto many = torch::rand({2, 3, 28, 28}, torch::kDouble);
  const auto small = downsample_images(many, 4);
  EXPECT_EQ(small.sizes(), torch::IntArrayRef({2, 3, 7, 7}));
  EXPECT_NEAR(small[1][2][3][4].item<double>(),
              many[1][2].slice(0, 12, 16).slice(1, 16, 20).mean().item<double>(), 1e-15);
}

TEST(DownsampleTest, RefusesFactorsThatDoNotDivideTheImage) {
  const auto image = torch::zeros({1, 1, 28, 28}, torch::kByte);
  expect_error([&] { downsample_images(image, 3); },
               {"downsample_images: argument 'factor' must be a positive divisor of the height 28 "
                "and the width 28, got 3"});
  expect_error([&] { downsample_images(image, 0); }, {"got 0"});
  expect_error([] { downsample_images(torch::zeros({4}), 2); },
               {"must have at least 2 dimensions [..., H, W], got shape [4]"});
  expect_error([] { downsample_images(torch::zeros({2, 2}, torch::kBool), 2); }, {"got bool"});
}

}  // namespace
}  // namespace diffeo::data
