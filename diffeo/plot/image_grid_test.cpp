// Sample grids: the tiling and the PNG file (8-bit RGBA, decoded with
// data::read_png to check every pixel).

#include "diffeo/plot/image_grid.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "diffeo/data/png.h"
#include "diffeo/plot/animation.h"
#include "diffeo/testing/expect_error.h"

namespace diffeo::plot {
namespace {

using testing::expect_error;
namespace fs = std::filesystem;

uint32_t read_u32(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(s[at + i]);
  return v;
}

TEST(ImageGrid, TilesImagesRowByRowWithZoomAndPadding) {
  // Three 1x2x2 images: values 0, 0.5 and 1 (one pixel NaN in the last).
  auto images =
      torch::stack({torch::zeros({1, 2, 2}), torch::full({1, 2, 2}, 0.5), torch::ones({1, 2, 2})});
  images[2][0][1][1] = NAN;
  const auto grid = image_grid(images, ImageGridOptions().columns(2).zoom(2).padding(1));
  // 2 columns of (2 * 2 + 1) pixels plus the left padding; 2 rows likewise.
  ASSERT_EQ(grid.width, 11);
  ASSERT_EQ(grid.height, 11);
  auto pixel = [&](int x, int y) { return &grid.rgba[4 * (y * grid.width + x)]; };
  EXPECT_EQ(pixel(0, 0)[0], 48);   // background
  EXPECT_EQ(pixel(1, 1)[0], 0);    // image 0
  EXPECT_EQ(pixel(6, 4)[1], 128);  // image 1, last zoomed pixel of its first block
  EXPECT_EQ(pixel(1, 6)[2], 255);  // image 2 in the second row
  EXPECT_EQ(pixel(4, 9)[0], 255);  // its NaN pixel: red
  EXPECT_EQ(pixel(4, 9)[1], 0);
  EXPECT_EQ(pixel(6, 6)[0], 48);   // no fourth image
  EXPECT_EQ(pixel(3, 3)[3], 255);  // opaque
  // Default columns: the smallest square grid.
  EXPECT_EQ(image_grid(torch::rand({5, 3, 4, 4})).width, 3 * (4 * 3 + 2) + 2);
}

TEST(ImageGrid, RefusesBadInput) {
  expect_error([] { image_grid(torch::rand({2, 2, 4, 4})); }, {"C = 1 or 3"});
  expect_error([] { image_grid(torch::rand({4, 4})); }, {"[N >= 1, C = 1 or 3, H, W]"});
  expect_error(
      [] {
        image_grid(torch::rand({1, 1, 4, 4}), ImageGridOptions().zoom(0));
      },
      {"zoom >= 1"});
  expect_error(
      [] {
        image_grid(torch::zeros({1, 1, 4000, 4000}), ImageGridOptions().zoom(10));
      },
      {"use fewer images"});
}

TEST(ImageGrid, PngHoldsExactlyThePixels) {
  const auto dir = fs::temp_directory_path() / ("diffeo_png_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const auto grid = image_grid(torch::rand({6, 1, 5, 3}), ImageGridOptions().zoom(2));
  const auto path = (dir / "grid.png").string();
  save_png(grid, path);
  std::ifstream in(path, std::ios::binary);
  const std::string png((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(png.size(), 33u);
  ASSERT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n"));
  EXPECT_EQ(png.substr(12, 4), "IHDR");
  EXPECT_EQ(read_u32(png, 16), static_cast<uint32_t>(grid.width));
  EXPECT_EQ(read_u32(png, 20), static_cast<uint32_t>(grid.height));
  EXPECT_EQ(png[24], 8);  // 8 bits per sample
  EXPECT_EQ(png[25], 6);  // RGBA
  // libpng decodes it to the grid's pixels: RGB, the opaque alpha dropped.
  const auto rgba = torch::from_blob(const_cast<uint8_t*>(grid.rgba.data()),
                                     {grid.height, grid.width, 4}, torch::kUInt8)
                        .permute({2, 0, 1});
  EXPECT_TRUE(torch::equal(data::read_png(path), rgba.narrow(0, 0, 3)));
  // A bad image or path: an error and nothing written.
  expect_error([&] { save_png(Image{2, 2, {}}, (dir / "bad.png").string()); }, {"RGBA pixels"});
  EXPECT_FALSE(fs::exists(dir / "bad.png"));
  expect_error([&] { save_png(grid, (dir / "missing" / "x.png").string()); }, {"x.png"});
  fs::remove_all(dir);
}

TEST(ImageGrid, GridsBecomeAnimationFrames) {
  Animation animation;
  animation.add_frame(image_grid(torch::rand({4, 1, 3, 3})));
  animation.add_frame(image_grid(torch::rand({4, 1, 3, 3})));
  EXPECT_EQ(animation.frames(), 2);
  expect_error(
      [&] {
        animation.add_frame(image_grid(torch::rand({9, 1, 3, 3})));
      },
      {"the animation's frames are"});
}

}  // namespace
}  // namespace diffeo::plot
