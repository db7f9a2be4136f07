// diffeo::plot: valid PNG and GIF files of the requested size, pictures that
// show the data the right way round, atomic writes, thread safety, clear errors.

#include "diffeo/plot/plot.h"

#include <gif_lib.h>
#include <gtest/gtest.h>
#include <plstream.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "diffeo/plot/session.h"
#include "diffeo/testing/expect_error.h"

namespace diffeo::plot {
namespace {

using testing::expect_error;
namespace fs = std::filesystem;

class Plot : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("diffeo_plot_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::vector<std::string> files() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_))
      names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }

  fs::path dir_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

uint32_t big_endian(const std::string& bytes, size_t at) {
  uint32_t value = 0;
  for (size_t i = 0; i < 4; ++i) value = (value << 8) | static_cast<uint8_t>(bytes[at + i]);
  return value;
}

// Checks the PNG signature and the IHDR chunk (always first); returns the file.
std::string expect_png(const std::string& path, int width, int height) {
  const auto bytes = read_file(path);
  EXPECT_GT(bytes.size(), 33u) << path;
  if (bytes.size() <= 33) return bytes;
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(bytes.substr(12, 4), "IHDR");
  EXPECT_EQ(big_endian(bytes, 16), static_cast<uint32_t>(width));
  EXPECT_EQ(big_endian(bytes, 20), static_cast<uint32_t>(height));
  EXPECT_EQ(bytes.substr(bytes.size() - 8, 4), "IEND");
  return bytes;
}

// A grid whose value is f(x, y) at the cell centres of [0, 2] x [0, 1].
Grid2D grid_of(const std::function<torch::Tensor(torch::Tensor, torch::Tensor)>& f,
               int64_t n = 20) {
  return density_grid(
      [&](const torch::Tensor& p) { return f(p.select(1, 0), p.select(1, 1)).log(); },
      {0.0, 2.0, 0.0, 1.0}, n, torch::kFloat64);
}

Grid2D x_ramp() {
  return grid_of([](torch::Tensor x, torch::Tensor) { return 1.0 + x; });
}

std::array<int, 3> pixel(const Image& image, int x, int y) {
  const uint8_t* p = &image.rgba[4 * (static_cast<size_t>(y) * image.width + x)];
  return {p[0], p[1], p[2]};
}

// The summed difference of the channels is under `tolerance`.
bool close_to(const std::array<int, 3>& p, const std::array<int, 3>& colour, int tolerance = 12) {
  return std::abs(p[0] - colour[0]) + std::abs(p[1] - colour[1]) + std::abs(p[2] - colour[2]) <
         tolerance;
}

// The number of pixels of `image` close to `colour`.
int count(const Image& image, const std::array<int, 3>& colour) {
  int n = 0;
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x) n += close_to(pixel(image, x, y), colour);
  return n;
}

// Viridis pixels are coloured; text, axes and background are grey.
bool coloured(const std::array<int, 3>& p) {
  return *std::max_element(p.begin(), p.end()) - *std::min_element(p.begin(), p.end()) > 40;
}

// ----------------------------------------------------------------- grids

TEST(Grid, HistogramCountsCellsRowsAreYAndNormalisesByAllSamples) {
  // On [0, 1]^2 with 2 x 2 cells of area 1/4: the upper edge belongs to the
  // last cell, and the sample outside still counts in N = 5.
  const auto samples =
      torch::tensor({{0.1, 0.1}, {0.9, 0.1}, {0.9, 0.9}, {1.0, 1.0}, {2.0, 0.5}}, torch::kFloat64);
  const auto grid = histogram2d(samples, {0, 1, 0, 1}, 2);
  const auto expected = torch::tensor({{1.0, 1.0}, {0.0, 2.0}}, torch::kFloat64) / (5 * 0.25);
  EXPECT_TRUE(torch::allclose(grid.values, expected)) << grid.values;
  EXPECT_EQ(grid.values.dtype(), torch::kFloat64);
  EXPECT_EQ(grid.extent.x_max, 1.0);
}

TEST(Grid, HistogramOfNormalSamplesMatchesTheDensity) {
  torch::manual_seed(0);
  const auto grid = histogram2d(torch::randn({200000, 2}), {-4, 4, -4, 4}, 16);
  const double cell_area = 0.25;
  EXPECT_NEAR(grid.values.sum().item<double>() * cell_area, 1.0, 1e-3);  // mass beyond 4 sd
  // The four centre cells [-0.5, 0.5]^2 hold P(|x| < 0.5)^2 = 0.1466 of the mass.
  EXPECT_NEAR(grid.values.slice(0, 7, 9).slice(1, 7, 9).sum().item<double>() * cell_area, 0.1466,
              0.004);
}

TEST(Grid, DensityGridEvaluatesCellCentresWithRowsAlongY) {
  std::vector<torch::Tensor> seen;
  const auto grid = density_grid(
      [&](const torch::Tensor& p) {
        seen.push_back(p);
        return p.select(1, 0) + 10 * p.select(1, 1);
      },
      {0.0, 4.0, 0.0, 2.0}, 2, torch::kFloat64);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_TRUE(torch::equal(
      seen[0], torch::tensor({{1.0, 0.5}, {3.0, 0.5}, {1.0, 1.5}, {3.0, 1.5}}, torch::kFloat64)));
  const auto expected = torch::tensor({{1.0 + 5, 3.0 + 5}, {1.0 + 15, 3.0 + 15}}).exp();
  EXPECT_TRUE(torch::allclose(grid.values, expected.to(torch::kFloat64))) << grid.values;
  EXPECT_FALSE(grid.values.requires_grad());
}

TEST(Grid, DensityGridOfANormalIntegratesToOne) {
  const auto grid = density_grid(
      [](const torch::Tensor& p) { return -0.5 * p.pow(2).sum(1) - std::log(2 * M_PI); },
      {-6, 6, -6, 6}, 120);
  EXPECT_EQ(grid.values.dtype(), torch::get_default_dtype());
  EXPECT_NEAR(grid.values.sum().item<double>() * 0.01, 1.0, 1e-4);
}

TEST(Grid, ErrorsNameTheArgument) {
  const auto samples = torch::randn({10, 2});
  expect_error(
      [&] {
        histogram2d(torch::randn({10, 3}), {0, 1, 0, 1}, 4);
      },
      {"plot::histogram2d", "'samples'", "[N, 2]", "[10, 3]"});
  expect_error(
      [&] {
        histogram2d(torch::zeros({0, 2}), {0, 1, 0, 1}, 4);
      },
      {"'samples'", "N >= 1", "[0, 2]"});
  expect_error(
      [&] {
        histogram2d(torch::tensor({{0.0, double(NAN)}}), {0, 1, 0, 1}, 4);
      },
      {"'samples'", "finite", "1 of its 2"});
  expect_error(
      [&] {
        histogram2d(samples, {1, 1, 0, 1}, 4);
      },
      {"'extent'", "x_min < x_max", "x_min = 1 and x_max = 1"});
  expect_error([&] { histogram2d(samples, {0, 1, 0, INFINITY}, 4); }, {"'extent'", "y_max = inf"});
  expect_error([&] { histogram2d(samples, {0, 1, 0, 1}, 0); }, {"'bins'", "positive"});
  const auto normal = [](const torch::Tensor& p) { return -0.5 * p.pow(2).sum(1); };
  expect_error([&] { density_grid(normal, {0, 1, 2, -2}, 10); }, {"plot::density_grid", "y_min"});
  expect_error([&] { density_grid(normal, {0, 1, 0, 1}, 0); }, {"'n'"});
  expect_error(
      [&] {
        density_grid([](const torch::Tensor& p) { return p; }, {0, 1, 0, 1}, 3);
      },
      {"one value per point (9)", "[9, 2]"});
  expect_error(
      [&] {
        density_grid([](const torch::Tensor& p) { return p.select(1, 0).log(); }, {-1, 1, 0, 1}, 4);
      },
      {"NaN or +inf at 8 of 16 grid points"});
}

// ----------------------------------------------------------------- figures

TEST_F(Plot, SavesAPngOfTheRequestedSizeThatDependsOnTheData) {
  Figure ramp(1, 2, 640, 360, "two panels");
  ramp.heatmap(0, 0, x_ramp(), {"ramp", "x#d1#u", "x#d2#u", "p"});
  ramp.lines(0, 1, {{{0, 1, 2}, {3, 1, 2}, "a"}});
  ramp.save(path("ramp.png"));
  const auto first = expect_png(path("ramp.png"), 640, 360);
  EXPECT_GT(first.size(), 5000u);

  Figure bump(1, 2, 640, 360, "two panels");
  bump.heatmap(0, 0, grid_of([](torch::Tensor x, torch::Tensor y) {
                 return (-(x - 1).pow(2) - (y - 0.5).pow(2)).exp();
               }),
               {"ramp", "x#d1#u", "x#d2#u", "p"});
  bump.lines(0, 1, {{{0, 1, 2}, {3, 1, 2}, "a"}});
  bump.save(path("bump.png"));
  EXPECT_NE(expect_png(path("bump.png"), 640, 360), first);
  EXPECT_EQ(files(), (std::vector<std::string>{"bump.png", "ramp.png"}));  // no temporaries
}

TEST_F(Plot, HeatmapRendersViridisWithXRightwardsAndYUpwards) {
  for (const bool along_x : {true, false}) {
    Figure figure(1, 1, 300, 300);
    figure.heatmap(
        0, 0, along_x ? x_ramp() : grid_of([](torch::Tensor, torch::Tensor y) { return 1.0 + y; }),
        {"", "", "", "", /*colorbar=*/false});
    const Image image = figure.render();
    ASSERT_EQ(image.width, 300);
    ASSERT_EQ(image.height, 300);
    ASSERT_EQ(image.rgba.size(), 300u * 300 * 4);
    EXPECT_EQ(pixel(image, 2, 2), (std::array<int, 3>{255, 255, 255}));  // white page
    // Walk the middle row rightwards (or the middle column upwards): viridis's
    // green channel rises from 1 (purple) to 231 (yellow).
    std::vector<int> greens;
    for (int i = 0; i < 300; ++i) {
      const auto p = along_x ? pixel(image, i, 150) : pixel(image, 150, 299 - i);
      if (coloured(p)) greens.push_back(p[1]);
    }
    // (The first and last pixels blend with the black frame.)
    ASSERT_GT(greens.size(), 150u) << "along x: " << along_x;
    EXPECT_TRUE(std::is_sorted(greens.begin() + 2, greens.end() - 2)) << "along x: " << along_x;
    EXPECT_LT(greens[2], 10);                   // the lowest value's cell is viridis(0), green 1
    EXPECT_GT(greens[greens.size() - 3], 225);  // the highest value's is viridis(1), green 231
  }
}

TEST_F(Plot, ColourBarLinesAndSurfaceAppearInTheImage) {
  // The colour bar is the only place where one column runs from purple to yellow.
  const auto ramp_columns = [](const Image& image) {
    int n = 0;
    for (int x = 0; x < image.width; ++x) {
      bool purple = false, yellow = false;
      for (int y = 0; y < image.height; ++y) {
        const auto p = pixel(image, x, y);
        purple |= coloured(p) && p[1] < 10;
        yellow |= coloured(p) && p[1] > 225;
      }
      n += purple && yellow;
    }
    return n;
  };
  Figure without_bar(1, 1, 300, 300), with_bar(1, 1, 300, 300);
  without_bar.heatmap(0, 0, x_ramp(), {"", "", "", "", false});
  with_bar.heatmap(0, 0, x_ramp(), {"", "", "", "", true});
  EXPECT_EQ(ramp_columns(without_bar.render()), 0);
  EXPECT_GT(ramp_columns(with_bar.render()), 10);  // the bar is 1.2 x 13 px wide

  Figure lines(1, 1, 400, 300);
  lines.lines(0, 0, {{{0, 1}, {0, 1}, "up"}, {{0, 1}, {1, 0}, "down"}});
  const auto image = lines.render();
  EXPECT_GT(count(image, {31, 119, 180}), 200);  // blue, first line
  EXPECT_GT(count(image, {255, 127, 14}), 200);  // orange, second line

  Figure surface(1, 1, 400, 300);
  surface.surface3d(0, 0, x_ramp(), {"surface", "x", "y", "z"});
  const auto pixels = surface.render();
  int colour_pixels = 0;
  for (int y = 0; y < 300; ++y)
    for (int x = 0; x < 400; ++x) colour_pixels += coloured(pixel(pixels, x, y));
  EXPECT_GT(colour_pixels, 5000);
}

TEST_F(Plot, FigureErrors) {
  expect_error([] { Figure(0, 1); }, {"plot::Figure", "'rows'"});
  expect_error([] { Figure(1, 1, 50, 300); }, {"'width_px'", "[100, 3000]", "got 50"});
  expect_error([] { Figure(1, 1, 300, 4000); }, {"'height_px'", "got 4000"});
  expect_error([] { Figure(4, 4, 400, 300); }, {"4 x 4 panels", "100 x 75 pixels per panel"});

  Figure figure(2, 2);
  expect_error([&] { figure.heatmap(2, 0, x_ramp()); },
               {"plot::Figure::heatmap(2, 0)", "no such panel", "rows 0..1"});
  expect_error(
      [&] {
        figure.heatmap(0, 0, {torch::zeros({0, 3}), {0, 1, 0, 1}});
      },
      {"heatmap(0, 0)", "'grid.values'", "non-empty [ny, nx]", "[0, 3]"});
  expect_error([&] { figure.heatmap(0, 0, {torch::ones({5}), {0, 1, 0, 1}}); }, {"[5]"});
  expect_error(
      [&] {
        figure.heatmap(0, 0, {torch::tensor({{1.0, double(NAN)}}), {0, 1, 0, 1}});
      },
      {"'grid.values'", "finite", "1 of its 2"});
  expect_error(
      [&] {
        figure.heatmap(0, 0, {torch::ones({2, 2}), {0, 1, 3, 3}});
      },
      {"'grid.extent'", "y_min = 3 and y_max = 3"});
  expect_error(
      [&] {
        figure.heatmap(0, 0, {torch::ones({2, 2}, torch::kLong), {0, 1, 0, 1}});
      },
      {"floating-point"});
  expect_error(
      [&] {
        figure.surface3d(0, 0, {torch::ones({1, 5}), {0, 1, 0, 1}});
      },
      {"surface3d(0, 0)", "2 x 2", "[1, 5]"});
  expect_error([&] { figure.lines(0, 1, {}); }, {"lines(0, 1)", "'lines' is empty"});
  expect_error(
      [&] {
        figure.lines(0, 1, {{{0, 1}, {0, 1}}, {{0, 1, 2}, {0, 1}}});
      },
      {"'lines[1]'", "same length", "got 3 and 2"});
  expect_error([&] { figure.lines(0, 1, {{{0, 1}, {0, INFINITY}}}); }, {"'lines[0].y'", "finite"});
  expect_error(
      [&] {
        figure.lines(0, 1, {{{0, 1}, {0, 1}}, {{0, 1}, {0, 1}, "", {-1, 0}, {}}});
      },
      {"lines(0, 1)", "'lines[1].lower' and 'lines[1].upper'", "both or neither", "got 2 and 0"});
  expect_error(
      [&] {
        figure.lines(0, 1, {{{0, 1}, {0, 1}, "", {-1, 0, 1}, {1, 2, 3}}});
      },
      {"'lines[0].lower'", "one value per x (2)", "got 3"});
  expect_error(
      [&] {
        figure.lines(0, 1, {{{0, 1}, {0, 1}, "", {-1, 0}, {1}}});
      },
      {"'lines[0].upper'", "one value per x (2)", "got 1"});
  expect_error(
      [&] {
        figure.lines(0, 1, {{{0, 1}, {0, 1}, "", {-1, 0}, {1, NAN}}});
      },
      {"'lines[0].upper'", "finite"});
  expect_error(
      [&] {
        figure.lines(0, 1, {{{0, 1, 2}, {0, 1, 2}, "", {-1, 0, 2.5}, {1, 2, 2}}});
      },
      {"'lines[0].lower' must be <= 'lines[0].upper'", "at index 2", "lower = 2.5 > upper = 2"});
  figure.heatmap(0, 0, x_ramp());
  expect_error([&] { figure.lines(0, 0, {{{0}, {0}}}); }, {"lines(0, 0)", "already filled"});
}

// The pixels of `image` in column x that match `colour`, top first.
std::vector<int> rows_of(const Image& image, int x, const std::array<int, 3>& colour,
                         int tolerance = 12) {
  std::vector<int> rows;
  for (int y = 0; y < image.height; ++y)
    if (close_to(pixel(image, x, y), colour, tolerance)) rows.push_back(y);
  return rows;
}

// line_colours() 0, 1 and 2, and 0 at 30% over white: a band's tint.
constexpr std::array<int, 3> kBlue{31, 119, 180}, kOrange{255, 127, 14}, kGreen{44, 160, 44},
    kBlueTint{188, 214, 233};

TEST_F(Plot, BandShadesBetweenLowerAndUpperUnderEveryLine) {
  // A wiggly mean with a widening band, and the band's edges drawn as lines:
  // orange the lower edge, green the upper.
  std::vector<double> x, mean, lower, upper;
  for (int i = 0; i <= 40; ++i) {
    x.push_back(0.25 * i);
    mean.push_back(std::sin(x.back()));
    lower.push_back(mean.back() - 1 - 0.1 * x.back());
    upper.push_back(mean.back() + 1 + 0.1 * x.back());
  }
  Figure figure(1, 1, 400, 300), plain(1, 1, 400, 300);
  figure.lines(0, 0, {{x, mean, "", lower, upper}, {x, lower}, {x, upper}});
  plain.lines(0, 0, {{x, mean}, {x, lower}, {x, upper}});
  const auto image = figure.render(), unshaded = plain.render();
  int columns = 0, tint = 0;
  for (int c = 0; c < image.width; ++c) {
    const auto tinted = rows_of(image, c, kBlueTint, 8);
    if (tinted.empty()) continue;
    ++columns;
    tint += static_cast<int>(tinted.size());
    // Every tinted pixel lies between the upper edge (above) and the lower one.
    const auto greens = rows_of(image, c, kGreen), oranges = rows_of(image, c, kOrange);
    ASSERT_FALSE(greens.empty()) << "column " << c;
    ASSERT_FALSE(oranges.empty()) << "column " << c;
    EXPECT_GT(tinted.front(), greens.front()) << "column " << c;
    EXPECT_LT(tinted.back(), oranges.back()) << "column " << c;
    // The mean runs inside the band, drawn over it in its own colour.
    const auto blues = rows_of(image, c, kBlue);
    if (c % 20 == 0 && !blues.empty()) {
      EXPECT_GT(blues.front(), greens.front()) << "column " << c;
      EXPECT_LT(blues.back(), oranges.back()) << "column " << c;
    }
  }
  EXPECT_GT(columns, 250);  // the viewport is 400 - 6 x 13 - 1.5 x 13 = 302 px wide
  EXPECT_GT(tint, 20000);   // most of the area between the edges
  // The band lies under the lines: they keep their colours (but for a few
  // anti-aliased pixels at their rims), and the band its tint beside them.
  for (const auto& colour : {kBlue, kOrange, kGreen}) {
    EXPECT_GT(count(unshaded, colour), 300);
    EXPECT_GT(count(image, colour), 0.95 * count(unshaded, colour));
  }

  // The axes span the band: a band around a flat line leaves white rows (the
  // 5% padding) between it and the frame, above and below.
  Figure flat(1, 1, 400, 300);
  flat.lines(0, 0, {{{0, 1, 2}, {0, 0, 0}, "", {-1, -1, -1}, {1, 1, 1}}});
  const auto band = flat.render();
  const auto tinted = rows_of(band, 200, kBlueTint, 8);
  const auto frame = rows_of(band, 200, {0, 0, 0}, 250);
  ASSERT_FALSE(tinted.empty());
  ASSERT_GE(frame.size(), 2u);
  EXPECT_GT(tinted.front() - frame.front(), 5);
  EXPECT_GT(frame.back() - tinted.back(), 5);
  EXPECT_GT(tinted.size(), 150u);
}

TEST_F(Plot, MarkersAreDotsNotJoinedWithADotInTheLegend) {
  struct Blob {
    int n = 0, x0 = 1 << 20, x1 = -1, y0 = 1 << 20, y1 = -1;  // count, bounding box
  };
  // The blue pixels (anti-aliased rims too) of the image in [x0, x1) x [y0, y1).
  const auto blue_in = [](const Image& image, int x0, int x1, int y0, int y1) {
    Blob blob;
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x)
        if (close_to(pixel(image, x, y), kBlue, 60)) {
          ++blob.n;
          blob.x0 = std::min(blob.x0, x), blob.x1 = std::max(blob.x1, x);
          blob.y0 = std::min(blob.y0, y), blob.y1 = std::max(blob.y1, y);
        }
    return blob;
  };
  // Two points, top left and bottom right of the plot; the legend sits top right.
  const auto render = [](bool markers) {
    Figure figure(1, 1, 400, 300);
    figure.lines(0, 0, {{{0, 1}, {1, 0}, "data", {}, {}, markers}});
    return figure.render();
  };
  const auto dots = render(true), joined = render(false);
  const Blob all = blue_in(dots, 0, 400, 0, 300);
  ASSERT_GT(all.n, 0);
  // Every blue pixel outside the legend is near one of the two corners, and
  // each corner holds a dot a few pixels across.
  const int w = 10;
  int near_corners = 0;
  for (const auto& corner : {blue_in(dots, 0, all.x0 + w, 0, all.y0 + w),
                             blue_in(dots, all.x1 - w, 400, all.y1 - w, 300)}) {
    EXPECT_GE(corner.n, 8);
    EXPECT_GE(corner.x1 - corner.x0 + 1, 4);
    EXPECT_LE(corner.x1 - corner.x0 + 1, 9);
    near_corners += corner.n;
  }
  const Blob legend = blue_in(dots, 200, 400, 0, 100);
  EXPECT_EQ(near_corners + legend.n, all.n);
  // The middle of the diagonal stays white; the joined line crosses it.
  const int mx = (all.x0 + all.x1) / 2, my = (all.y0 + all.y1) / 2;
  EXPECT_EQ(blue_in(dots, mx - 30, mx + 30, my - 30, my + 30).n, 0);
  EXPECT_GT(blue_in(joined, mx - 30, mx + 30, my - 30, my + 30).n, 60);
  // The legend shows a dot, not a line segment.
  EXPECT_GE(legend.n, 8);
  EXPECT_LE(legend.x1 - legend.x0 + 1, 9);
  const Blob segment = blue_in(joined, 200, 400, 0, 100);
  EXPECT_GT(segment.x1 - segment.x0 + 1, 15);
}

TEST_F(Plot, PointsOverlayAHeatmap) {
  Figure plain(1, 1, 300, 240), dotted(1, 1, 300, 240);
  plain.heatmap(0, 0, x_ramp());
  dotted.heatmap(0, 0, x_ramp()).points(0, 0, torch::rand({50, 2}));
  EXPECT_NE(plain.render().rgba, dotted.render().rgba);
  Figure empty(1, 2, 400, 240);
  diffeo::testing::expect_error(
      [&] {
        empty.points(0, 0, torch::rand({5, 2}));
      },
      {"points", "heatmap"});
  empty.heatmap(0, 1, x_ramp());
  diffeo::testing::expect_error(
      [&] {
        empty.points(0, 1, torch::rand({5, 3}));
      },
      {"points", "'xy'", "[5, 3]"});
  diffeo::testing::expect_error(
      [&] {
        empty.points(0, 1, torch::full({2, 2}, NAN));
      },
      {"'xy'", "finite"});
}

TEST_F(Plot, ConstantDataAndSinglePointsStillDraw) {
  Figure figure(1, 2, 500, 250);
  figure.heatmap(0, 0, {torch::zeros({3, 3}), {0, 1, 0, 1}});
  figure.lines(0, 1, {{{1}, {2}, "one point"}});
  figure.save(path("constant.png"));
  expect_png(path("constant.png"), 500, 250);
  // A band of one point has no area, and one of zero width none either.
  Figure bands(1, 2, 500, 250);
  bands.lines(0, 0, {{{1}, {2}, "one point", {1}, {3}}, {{1}, {2}, "one dot", {}, {}, true}});
  bands.lines(0, 1, {{{0, 1}, {2, 2}, "", {2, 2}, {2, 2}}});
  EXPECT_EQ(bands.render().width, 500);
}

TEST_F(Plot, UnwritablePathsFailCleanlyAndLeaveNoTemporaries) {
  Figure figure(1, 1, 200, 200);
  figure.heatmap(0, 0, x_ramp());
  const auto missing = "cannot write '" + path("no/such/dir/f.png") + "'";
  expect_error([&] { figure.save(path("no/such/dir/f.png")); },
               {"plot::Figure::save", missing.c_str(), "No such file or directory"});
  expect_error([&] { figure.save(""); }, {"'path' is empty"});
  // A directory in the way: rendering succeeds, the rename fails.
  fs::create_directories(path("taken.png"));
  const auto taken = "cannot write '" + path("taken.png") + "'";
  expect_error([&] { figure.save(path("taken.png")); },
               {taken.c_str(), "cannot move the file into place"});
  EXPECT_EQ(files(), std::vector<std::string>{"taken.png"});

  Animation animation;
  animation.add_frame(figure);
  expect_error([&] { animation.save_gif(path("no/such/dir/a.gif")); },
               {"plot::Animation::save_gif", "cannot write", "No such file or directory"});
  EXPECT_EQ(files(), std::vector<std::string>{"taken.png"});
}

TEST_F(Plot, SaveReplacesAnExistingFile) {
  std::ofstream(path("f.png")) << "old";
  Figure figure(1, 1, 200, 150);
  figure.heatmap(0, 0, x_ramp());
  figure.save(path("f.png"));
  expect_png(path("f.png"), 200, 150);
}

TEST_F(Plot, TwoThreadsPlotAtOnce) {
  std::vector<std::string> errors(2);
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&, t] {
      try {
        for (int k = 0; k < 3; ++k) {
          Figure figure(1, 2, 400 + 100 * t, 300);
          figure.heatmap(0, 0, x_ramp(), {"thread " + std::to_string(t)});
          figure.surface3d(0, 1, x_ramp());
          figure.save(path("t" + std::to_string(t) + ".png"));
          if (figure.render().width != 400 + 100 * t) errors[t] = "wrong width";
        }
      } catch (const std::exception& e) {
        errors[t] = e.what();
      }
    });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(errors, std::vector<std::string>(2));
  expect_png(path("t0.png"), 400, 300);
  expect_png(path("t1.png"), 500, 300);
}

// PLplot errors become diffeo::Error, and PLplot keeps working after them.
TEST_F(Plot, PlplotErrorsBecomeErrorsNotExits) {
  expect_error(
      [] {
        Session session("test");
        session.stream().col0(1);  // before plinit: PLplot aborts the operation
        session.check();
      },
      {"test: PLplot: plcol0: Please call plinit first"});
  expect_error(
      [] {
        Session session("test");
        session.stream().sdev("memcairo");
        session.stream().init();  // memcairo without its memory: PLplot would exit()
      },
      {"test: PLplot: fatal error: Must call plsmem first"});
  Figure figure(1, 1, 200, 150);
  figure.heatmap(0, 0, x_ramp());
  figure.save(path("after.png"));
  expect_png(path("after.png"), 200, 150);
}

// ----------------------------------------------------------------- animations

TEST_F(Plot, GifHasEveryFrameLoopsAndKeepsTheDelay) {
  Animation animation;
  for (int k = 0; k < 3; ++k) {
    Figure figure(1, 1, 240, 180, "frame " + std::to_string(k));
    figure.heatmap(0, 0, grid_of([k](torch::Tensor x, torch::Tensor y) {
                     return (-(x - 0.5 * k).pow(2) - (y - 0.5).pow(2)).exp();
                   }));
    animation.add_frame(figure);
  }
  EXPECT_EQ(animation.frames(), 3);
  animation.save_gif(path("a.gif"), 150);
  EXPECT_EQ(fs::status(path("a.gif")).permissions() & fs::perms::others_read,
            fs::status(dir_).permissions() & fs::perms::others_read);  // the umask's, like PNGs

  const auto bytes = read_file(path("a.gif"));
  EXPECT_EQ(bytes.substr(0, 6), "GIF89a");
  EXPECT_NE(bytes.find("NETSCAPE2.0"), std::string::npos);
  int error = 0;
  GifFileType* gif = DGifOpenFileName(path("a.gif").c_str(), &error);
  ASSERT_NE(gif, nullptr) << GifErrorString(error);
  ASSERT_EQ(DGifSlurp(gif), GIF_OK) << GifErrorString(gif->Error);
  EXPECT_EQ(gif->SWidth, 240);
  EXPECT_EQ(gif->SHeight, 180);
  EXPECT_EQ(gif->ImageCount, 3);
  ASSERT_NE(gif->SColorMap, nullptr);
  EXPECT_EQ(gif->SColorMap->ColorCount, 256);
  GraphicsControlBlock control;
  ASSERT_EQ(DGifSavedExtensionToGCB(gif, 2, &control), GIF_OK);
  EXPECT_EQ(control.DelayTime, 15);  // centiseconds
  const auto frame = [&](int i) {
    const auto& image = gif->SavedImages[i];
    return std::string(reinterpret_cast<const char*>(image.RasterBits), 240 * 180);
  };
  EXPECT_NE(frame(0), frame(1));
  // The page is white: palette entry 31, the brightest grey.
  const auto& white = gif->SColorMap->Colors[static_cast<uint8_t>(frame(0)[0])];
  EXPECT_EQ(white.Red + white.Green + white.Blue, 3 * 255);
  DGifCloseFile(gif, &error);
}

TEST_F(Plot, AnimationErrors) {
  Animation animation;
  expect_error([&] { animation.save_gif(path("a.gif")); }, {"save_gif", "no frames"});
  Figure small(1, 1, 200, 150), large(1, 1, 300, 150);
  small.heatmap(0, 0, x_ramp());
  large.heatmap(0, 0, x_ramp());
  animation.add_frame(small);
  expect_error([&] { animation.add_frame(large); },
               {"add_frame", "the new frame is 300 x 150", "frames are 200 x 150"});
  expect_error([&] { animation.save_gif(path("a.gif"), 0); }, {"'delay_ms'"});
  EXPECT_EQ(files(), std::vector<std::string>{});
}

}  // namespace
}  // namespace diffeo::plot
