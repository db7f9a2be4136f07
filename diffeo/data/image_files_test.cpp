// A user's own images: PNG files read and written (every PNG kind read_png
// converts: grey, RGB, palette, 1-bit, 16-bit, interlaced, alpha; pixel values
// compared exactly), folders of PNG files (flat and with class sub-folders),
// NPY image arrays (uint8 and float), label CSV files, and every error a
// user's files can provoke, each naming the file at fault.

#include "diffeo/data/image_files.h"

#include <gtest/gtest.h>
#include <png.h>

#include <cstdio>
#include <filesystem>

#include "diffeo/data/npy.h"
#include "diffeo/data/png.h"
#include "diffeo/testing/expect_error.h"
#include "diffeo/testing/temp_dir.h"

namespace diffeo::data {
namespace {

using testing::expect_error;
namespace fs = std::filesystem;

class ImageFilesTest : public testing::TempDirTest {
 protected:
  ImageFilesTest() : TempDirTest("diffeo_image_files_test") {}

  // A random uint8 image [C, H, W] written as `name`.
  torch::Tensor png(const std::string& name, int64_t c, int64_t h, int64_t w) const {
    const auto image = torch::randint(0, 256, {c, h, w}, torch::kUInt8);
    fs::create_directories((dir_ / name).parent_path());
    write_png(image, path(name));
    return image;
  }
};

// A PNG of any kind written with libpng's own low-level API, so read_png is
// checked against files it did not write: `rows` holds the packed rows as
// the PNG stores them (16-bit samples big-endian, 1-bit pixels 8 a byte).
// Fewer rows than `height` give a file cut short after them.
void write_raw_png(const std::string& path, int width, int height, int bit_depth, int color_type,
                   const std::vector<std::string>& rows, const std::vector<png_color>& palette = {},
                   bool interlaced = false) {
  FILE* file = std::fopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr);
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  png_init_io(png, file);
  png_set_IHDR(png, info, width, height, bit_depth, color_type,
               interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  if (!palette.empty()) png_set_PLTE(png, info, palette.data(), static_cast<int>(palette.size()));
  png_write_info(png, info);
  std::vector<png_bytep> pointers;
  for (const auto& row : rows)
    pointers.push_back(reinterpret_cast<png_bytep>(const_cast<char*>(row.data())));
  if (interlaced) {
    png_write_image(png, pointers.data());  // every pass over all rows
  } else {
    for (auto* pointer : pointers) png_write_row(png, pointer);
  }
  if (static_cast<int>(rows.size()) == height) png_write_end(png, nullptr);  // else cut short
  png_destroy_write_struct(&png, &info);
  std::fclose(file);
}

std::string row(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out += static_cast<char>(b);
  return out;
}

torch::Tensor u8(std::initializer_list<int> values, torch::IntArrayRef shape) {
  return torch::tensor(std::vector<int64_t>(values.begin(), values.end()))
      .to(torch::kUInt8)
      .reshape(shape);
}

// ---------------------------------------------------------------- PNG files

TEST_F(ImageFilesTest, PngRoundTripIsExactForGreyAndRgb) {
  for (const int64_t c : {1, 3}) {
    const auto image = png("round.png", c, 5, 7);
    const auto back = read_png(path("round.png"));
    EXPECT_EQ(back.scalar_type(), torch::kUInt8);
    EXPECT_TRUE(torch::equal(back, image)) << c;
  }
  // A non-contiguous view is written as its values.
  const auto wide = torch::randint(0, 256, {3, 4, 6}, torch::kUInt8);
  write_png(wide.transpose(1, 2), path("t.png"));
  EXPECT_TRUE(torch::equal(read_png(path("t.png")), wide.transpose(1, 2)));
}

TEST_F(ImageFilesTest, PngAlphaIsDroppedWhenOpaqueAndRefusedOtherwise) {
  for (const int64_t c : {2, 4}) {
    auto image = torch::randint(0, 256, {c, 3, 4}, torch::kUInt8);
    image[c - 1].fill_(255);
    write_png(image, path("a.png"));
    EXPECT_TRUE(torch::equal(read_png(path("a.png")), image.narrow(0, 0, c - 1))) << c;
    image[c - 1][1][2] = 254;  // row 2, column 3
    image[c - 1][2][0] = 0;
    write_png(image, path("a.png"));
    expect_error([&] { read_png(path("a.png")); },
                 {"a.png", "has 2 transparent pixels", "row 2, column 3", "flatten"});
  }
}

TEST_F(ImageFilesTest, PngPaletteLowBitDepthSixteenBitAndInterlacedAreConverted) {
  // Palette, 2 bits a pixel (4 pixels a byte): indices 0 1 2 3 / 3 2 1 0.
  write_raw_png(path("palette.png"), 4, 2, 2, PNG_COLOR_TYPE_PALETTE,
                {row({0b00011011}), row({0b11100100})},
                {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {10, 20, 30}});
  // clang-format off
  const auto colours = u8({255, 0,   0,   10, /**/ 10, 0,   0,   255,   // R
                           0,   255, 0,   20, /**/ 20, 0,   255, 0,     // G
                           0,   0,   255, 30, /**/ 30, 255, 0,   0},    // B
                          {3, 2, 4});
  // clang-format on
  EXPECT_TRUE(torch::equal(read_png(path("palette.png")), colours));
  // 1-bit grey: 1 0 1 ... -> 255 0 255.
  write_raw_png(path("bits.png"), 3, 1, 1, PNG_COLOR_TYPE_GRAY, {row({0b10100000})});
  EXPECT_TRUE(torch::equal(read_png(path("bits.png")), u8({255, 0, 255}, {1, 1, 3})));
  // 16-bit grey, big-endian: v8 = round(v16 / 257): 65535 -> 255, 0 -> 0, 257 -> 1,
  // 385 (1.498) -> 1, 386 (1.502) -> 2, 32896 -> 128.
  write_raw_png(path("deep.png"), 6, 1, 16, PNG_COLOR_TYPE_GRAY,
                {row({255, 255, 0, 0, 1, 1, 1, 0x81, 1, 0x82, 0x80, 0x80})});
  EXPECT_TRUE(torch::equal(read_png(path("deep.png")), u8({255, 0, 1, 1, 2, 128}, {1, 1, 6})));
  // 16-bit RGB: each sample scaled.
  write_raw_png(path("deep_rgb.png"), 1, 1, 16, PNG_COLOR_TYPE_RGB, {row({255, 255, 0, 0, 1, 1})});
  EXPECT_TRUE(torch::equal(read_png(path("deep_rgb.png")), u8({255, 0, 1}, {3, 1, 1})));
  // Adam7 interlacing: the pixels come back in place.
  std::vector<std::string> rows;
  auto expected = torch::empty({1, 9, 10}, torch::kUInt8);
  for (int y = 0; y < 9; ++y) {
    std::string r;
    for (int x = 0; x < 10; ++x) {
      r += static_cast<char>(y * 10 + x);
      expected[0][y][x] = y * 10 + x;
    }
    rows.push_back(r);
  }
  write_raw_png(path("interlaced.png"), 10, 9, 8, PNG_COLOR_TYPE_GRAY, rows, {}, true);
  EXPECT_TRUE(torch::equal(read_png(path("interlaced.png")), expected));
}

TEST_F(ImageFilesTest, PngErrorsNameTheFile) {
  // Random bytes named .png.
  write("noise.png", std::string(reinterpret_cast<const char*>(
                                     torch::randint(0, 256, {300}, torch::kUInt8).data_ptr()),
                                 300));
  expect_error([&] { read_png(path("noise.png")); },
               {"read_png", "noise.png", "is not a PNG file"});
  expect_error([&] { read_png(path("missing.png")); }, {"read_png", "missing.png", "cannot open"});
  expect_error([&] { read_png(dir_.string()); }, {"read_png", "directory"});
  // A real PNG cut short, and one whose image data are damaged.
  png("good.png", 3, 16, 16);
  const std::string good = read("good.png");
  write("cut.png", good.substr(0, good.size() / 2));
  expect_error([&] { read_png(path("cut.png")); }, {"read_png", "cut.png", "is truncated"});
  std::string damaged = good;
  damaged[good.size() - 20] ^= 0x5a;  // inside IDAT: its CRC no longer matches
  write("damaged.png", damaged);
  expect_error([&] { read_png(path("damaged.png")); }, {"read_png", "damaged.png", "is corrupt"});
  // A header declaring 900000 x 900000 pixels over a few bytes: refused
  // before anything is allocated.
  const auto noise = torch::randint(0, 256, {900000}, torch::kUInt8);
  write_raw_png(path("huge.png"), 900000, 900000, 8, PNG_COLOR_TYPE_GRAY,
                {std::string(reinterpret_cast<const char*>(noise.data_ptr()), 900000)});
  expect_error([&] { read_png(path("huge.png")); },
               {"huge.png", "declares 900000 x 900000 pixels, more than its"});
}

TEST_F(ImageFilesTest, WritePngRefusesBadImagesAndWritesAtomically) {
  expect_error(
      [&] {
        write_png(torch::zeros({3, 2, 2}), path("f.png"));
      },
      {"write_png", "uint8 [C, H, W]", "got Float [3, 2, 2]", "f.png"});
  expect_error(
      [&] {
        write_png(torch::zeros({5, 2, 2}, torch::kUInt8), path("f.png"));
      },
      {"write_png", "got Byte [5, 2, 2]"});
  expect_error(
      [&] {
        write_png(torch::zeros({2, 2}, torch::kUInt8), path("f.png"));
      },
      {"write_png", "got Byte [2, 2]"});
  expect_error(
      [&] {
        write_png(torch::zeros({1, 0, 2}, torch::kUInt8), path("f.png"));
      },
      {"H, W >= 1"});
  EXPECT_FALSE(fs::exists(path("f.png")));
  expect_error(
      [&] {
        write_png(torch::zeros({1, 2, 2}, torch::kUInt8), (dir_ / "no" / "x.png").string());
      },
      {"x.png"});
  EXPECT_TRUE(fs::is_empty(dir_));
}

// ---------------------------------------------------------------- folders

TEST_F(ImageFilesTest, FlatFolderIsReadInSortedOrderWithoutLabels) {
  write("flat/notes.txt", "not an image");
  write("flat/.DS_Store", "hidden");
  const auto b = png("flat/b.png", 1, 4, 3), a = png("flat/a.PNG", 1, 4, 3);
  const auto ten = png("flat/10.png", 1, 4, 3);
  const auto folder = read_image_folder(path("flat"));
  EXPECT_EQ(folder.files, (std::vector<std::string>{"10.png", "a.PNG", "b.png"}));
  EXPECT_TRUE(torch::equal(folder.images, torch::stack({ten, a, b})));
  EXPECT_FALSE(folder.labels.defined());
  EXPECT_TRUE(folder.classes.empty());
  EXPECT_EQ(folder.ignored, std::vector<std::string>{"notes.txt"});
}

TEST_F(ImageFilesTest, SubFoldersAreClasses) {
  const auto dog1 = png("set/dog/1.png", 3, 6, 5);
  const auto cat2 = png("set/cat/2.png", 3, 6, 5);
  const auto cat1 = png("set/cat/1.png", 3, 6, 5);
  write("set/cat/readme.md", "");
  write("set/labels.csv", "");
  fs::create_directories(dir_ / "set" / "cat" / "deeper");
  const auto folder = read_image_folder(path("set"));
  EXPECT_EQ(folder.classes, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(folder.files, (std::vector<std::string>{"cat/1.png", "cat/2.png", "dog/1.png"}));
  EXPECT_TRUE(torch::equal(folder.images, torch::stack({cat1, cat2, dog1})));
  EXPECT_EQ(folder.images.sizes(), (std::vector<int64_t>{3, 3, 6, 5}));
  EXPECT_TRUE(torch::equal(folder.labels, torch::tensor({0, 0, 1}, torch::kInt64)));
  EXPECT_EQ(folder.ignored,
            (std::vector<std::string>{"cat/deeper", "cat/readme.md", "labels.csv"}));
  // As an ImageSet, as the image training code takes it.
  const ImageSet& set = folder;
  EXPECT_EQ(set.images.size(0), 3);
}

TEST_F(ImageFilesTest, FolderErrorsNameTheFolderAndTheFile) {
  expect_error([&] { read_image_folder(path("nowhere")); },
               {"read_image_folder", "nowhere", "does not exist"});
  png("one.png", 1, 2, 2);
  expect_error([&] { read_image_folder(path("one.png")); }, {"one.png", "is not a folder"});
  fs::create_directories(dir_ / "empty");
  write("empty/photo.jpg", "");
  expect_error([&] { read_image_folder(path("empty")); },
               {"empty", "holds no .png files", "'photo.jpg'", "only PNG images are read"});
  // Sizes or channel counts that differ: the first odd file and both shapes.
  png("sizes/a.png", 1, 8, 8);
  png("sizes/b.png", 1, 8, 8);
  png("sizes/c.png", 1, 8, 9);
  expect_error([&] { read_image_folder(path("sizes")); },
               {"sizes", "'c.png' is 1 x 8 x 9 (grey, C x H x W) but 'a.png' is 1 x 8 x 8",
                "one size and channel count"});
  png("channels/x/a.png", 1, 4, 4);
  png("channels/y/b.png", 3, 4, 4);
  expect_error([&] { read_image_folder(path("channels")); },
               {"'y/b.png' is 3 x 4 x 4 (RGB", "'x/a.png' is 1 x 4 x 4 (grey"});
  // A corrupt file among good ones: read_png's error, naming it.
  png("corrupt/a.png", 1, 2, 2);
  write("corrupt/b.png", "random bytes, not a PNG");
  expect_error([&] { read_image_folder(path("corrupt")); }, {"b.png", "is not a PNG file"});
  // Both layouts at once, and a class folder without images.
  png("both/a.png", 1, 2, 2);
  png("both/cls/b.png", 1, 2, 2);
  expect_error([&] { read_image_folder(path("both")); },
               {"holds both PNG files ('a.png') and sub-folders ('cls')"});
  png("hollow/a/x.png", 1, 2, 2);
  fs::create_directories(dir_ / "hollow" / "b");
  expect_error([&] { read_image_folder(path("hollow")); }, {"class folder 'b' holds no .png"});
}

// ---------------------------------------------------------------- NPY arrays

TEST_F(ImageFilesTest, ImageArraysOfUint8AreReadAsTheyAre) {
  const auto grey = torch::randint(0, 256, {4, 5, 6}, torch::kUInt8);  // [N, H, W]
  write_npy_array(grey, path("grey.npy"), "test");
  EXPECT_TRUE(torch::equal(read_image_array(path("grey.npy")), grey.unsqueeze(1)));
  const auto rgb = torch::randint(0, 256, {2, 3, 4, 4}, torch::kUInt8);
  write_npy_array(rgb, path("rgb.npy"), "test");
  EXPECT_EQ(read("rgb.npy").substr(10, 14), "{'descr': '|u1");  // numpy's uint8 spelling
  EXPECT_TRUE(torch::equal(read_image_array(path("rgb.npy")), rgb));
}

TEST_F(ImageFilesTest, FloatImageArraysAreQuantisedToRound255x) {
  // Every level k / 255 comes back as k, in float32 and float64.
  const auto levels = torch::arange(256, torch::kInt64).reshape({1, 1, 16, 16});
  for (const auto dtype : {torch::kFloat32, torch::kFloat64}) {
    write_npy_array(levels.to(dtype) / 255, path("levels.npy"), "test");
    EXPECT_TRUE(torch::equal(read_image_array(path("levels.npy")), levels.to(torch::kUInt8)));
  }
  // In between: round to nearest.
  write_npy_array(
      torch::tensor({0.0, 0.001, 0.5, 0.999, 1.0}, torch::kFloat64).reshape({1, 1, 1, 5}),
      path("mid.npy"), "test");
  EXPECT_TRUE(
      torch::equal(read_image_array(path("mid.npy")), u8({0, 0, 128, 255, 255}, {1, 1, 1, 5})));
  // [N, C, H, W] float with three channels.
  const auto rgb = torch::rand({3, 3, 2, 2});
  write_npy_array(rgb, path("rgb.npy"), "test");
  EXPECT_TRUE(torch::equal(read_image_array(path("rgb.npy")),
                           rgb.to(torch::kFloat64).mul(255).round().to(torch::kUInt8)));
}

TEST_F(ImageFilesTest, ImageArrayErrorsNameTheFileAndWhatWasExpected) {
  auto over = torch::rand({2, 1, 3, 3});
  over[1][0][2][1] = 1.5;
  over[1][0][2][2] = -0.25;
  write_npy_array(over, path("over.npy"), "test");
  expect_error(
      [&] { read_image_array(path("over.npy")); },
      {"read_image_array", "over.npy", "has 2 values outside [0, 1]", "index [1, 0, 2, 1] is 1.5"});
  auto nan = torch::rand({1, 2, 2}, torch::kFloat64);
  nan[0][1][0] = NAN;
  write_npy_array(nan, path("nan.npy"), "test");
  expect_error([&] { read_image_array(path("nan.npy")); }, {"nan.npy", "[0, 1, 0] is nan"});
  write_npy_array(torch::rand({5, 4}), path("table.npy"), "test");
  expect_error([&] { read_image_array(path("table.npy")); },
               {"table.npy", "shape (5, 4)", "expected images [N, H, W]"});
  write_npy_array(torch::rand({2, 8, 8, 3}), path("last.npy"), "test");
  expect_error([&] { read_image_array(path("last.npy")); },
               {"(2, 8, 8, 3)", "channels-last", "a.transpose(0, 3, 1, 2)"});
  write_npy_array(torch::rand({2, 2, 8, 8}), path("two.npy"), "test");
  expect_error([&] { read_image_array(path("two.npy")); }, {"(2, 2, 8, 8)", "C = 1 (grey) or 3"});
  write_npy_array(torch::zeros({0, 4, 4}, torch::kUInt8), path("empty.npy"), "test");
  expect_error([&] { read_image_array(path("empty.npy")); }, {"holds an empty array (0, 4, 4)"});
  write("int.npy", read("empty.npy").replace(read("empty.npy").find("|u1"), 3, "<i8"));
  expect_error([&] { read_image_array(path("int.npy")); },
               {"int.npy", "has dtype '<i8'", "expected uint8 ('|u1'"});
  write_npy_array(torch::zeros({2, 4, 4}, torch::kUInt8), path("cut.npy"), "test");
  write("cut.npy", read("cut.npy").substr(0, read("cut.npy").size() - 1));
  expect_error(
      [&] { read_image_array(path("cut.npy")); },
      {"cut.npy", "is truncated: a (2, 4, 4) uint8 array needs 32 bytes of data, found 31"});
  expect_error([&] { read_image_array(path("missing.npy")); }, {"missing.npy", "cannot open"});
  png("image.png", 1, 2, 2);
  expect_error([&] { read_image_array(path("image.png")); }, {"image.png", "is not an NPY file"});
}

// ---------------------------------------------------------------- labels

TEST_F(ImageFilesTest, LabelsInFileOrderAsIndicesOrNames) {
  write("indices.csv", "label\n2\n0\r\n\n2\n");
  auto read = read_labels_csv(path("indices.csv"), 3);
  EXPECT_TRUE(torch::equal(read.labels, torch::tensor({2, 0, 2}, torch::kInt64)));
  EXPECT_EQ(read.classes, (std::vector<std::string>{"0", "1", "2"}));
  write("names.csv", "\xEF\xBB\xBFshirt\n coat \nshirt\n3\n");
  read = read_labels_csv(path("names.csv"), 4);
  EXPECT_TRUE(torch::equal(read.labels, torch::tensor({2, 1, 2, 0}, torch::kInt64)));
  EXPECT_EQ(read.classes, (std::vector<std::string>{"3", "coat", "shirt"}));
}

TEST_F(ImageFilesTest, LabelsByFileName) {
  const std::vector<std::string> files{"a.png", "b.png", "c.png"};
  write("named.csv", "file,Class\nc.png,dog\na.png,cat\nb.png,dog\n");
  const auto read = read_labels_csv(path("named.csv"), files);
  EXPECT_TRUE(torch::equal(read.labels, torch::tensor({0, 1, 1}, torch::kInt64)));
  EXPECT_EQ(read.classes, (std::vector<std::string>{"cat", "dog"}));
  write("ordered.csv", "1\n0\n1\n");  // one column: in the order of `files`
  EXPECT_TRUE(torch::equal(read_labels_csv(path("ordered.csv"), files).labels,
                           torch::tensor({1, 0, 1}, torch::kInt64)));
  // With a folder's file list.
  png("set/x.png", 1, 2, 2);
  png("set/y.png", 1, 2, 2);
  write("set/labels.csv", "y.png,1\nx.png,0\n");
  const auto folder = read_image_folder(path("set"));
  EXPECT_TRUE(torch::equal(read_labels_csv(path("set/labels.csv"), folder.files).labels,
                           torch::tensor({0, 1}, torch::kInt64)));
}

TEST_F(ImageFilesTest, LabelErrorsNameTheFileAndLine) {
  write("few.csv", "1\n2\n");
  expect_error([&] { read_labels_csv(path("few.csv"), 3); },
               {"read_labels_csv", "few.csv", "holds 2 labels for 3 images"});
  write("header_only.csv", "label\n");
  expect_error([&] { read_labels_csv(path("header_only.csv"), 1); }, {"holds no labels"});
  write("two.csv", "a.png,1\n");
  expect_error([&] { read_labels_csv(path("two.csv"), 1); },
               {"two.csv' line 1 has 2 cells", "one label per line"});
  write("ragged.csv", "a.png,1\nb.png\n");
  expect_error(
      [&] {
        read_labels_csv(path("ragged.csv"), {"a.png", "b.png"});
      },
      {"line 2 has 1 cells, expected 2 (as on line 1)"});
  write("blank.csv", "1\n,\n");
  expect_error([&] { read_labels_csv(path("blank.csv"), 2); }, {"line 2 has 2 cells"});
  write("empty_label.csv", "a.png,\n");
  expect_error([&] { read_labels_csv(path("empty_label.csv"), {"a.png"}); },
               {"line 1 has an empty label"});
  write("big.csv", "0\n70000\n");
  expect_error([&] { read_labels_csv(path("big.csv"), 2); },
               {"line 2 has class index 70000", "at most 65535"});
  const std::vector<std::string> files{"a.png", "b.png", "c.png"};
  write("unknown.csv", "a.png,0\nz.png,1\n");
  expect_error([&] { read_labels_csv(path("unknown.csv"), files); },
               {"line 2: 'z.png' is not one of the 3 images", "e.g. 'a.png'"});
  write("twice.csv", "a.png,0\nb.png,1\na.png,1\n");
  expect_error([&] { read_labels_csv(path("twice.csv"), files); },
               {"line 3: 'a.png' has a label already (line 1)"});
  write("missing.csv", "b.png,0\n");
  expect_error([&] { read_labels_csv(path("missing.csv"), files); },
               {"has no label for 'a.png' (nor for 1 more images)"});
  expect_error([&] { read_labels_csv(path("nowhere.csv"), 2); }, {"nowhere.csv", "cannot open"});
}

}  // namespace
}  // namespace diffeo::data
