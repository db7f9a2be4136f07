#include "diffeo/plot/figure.h"

#include <plstream.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include "diffeo/core/atomic_file.h"
#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"
#include "diffeo/plot/palette.h"
#include "diffeo/plot/session.h"

namespace diffeo::plot {

namespace {

constexpr double kFontPx = 13.0;
// The cairo drivers draw text of chrht mm at chrht * 72 / 25.4 points, one
// point per pixel on an image surface.
constexpr double kMmPerPx = 25.4 / 72.0;
constexpr int kMinSize = 100, kMaxSize = 3000;  // PLplot's device coordinates are 16-bit
constexpr int kMinPanelWidth = 160, kMinPanelHeight = 120;
constexpr int kBlack = 1, kFirstLineColour = 2;  // cmap0: 0 is the white background
// A band's tint: its line's colour at this opacity over the white page.
constexpr double kBandAlpha = 0.3;
// Dots: Hershey glyph 850, a filled circle (plpoin's 17).  points() draws
// many samples, 2 px each; markers draw few data points, 7 px each.
constexpr PLINT kDot = 850;
constexpr const char* kDotText = "#(850)";
constexpr double kSampleDotScale = 0.5, kMarkerDotScale = 2.5;
constexpr double kLegendDotScale = 1.6;  // of the font size: as large as a marker
constexpr double kMarkerMarginPx = 5.0;  // a marker's radius and its anti-aliased rim

// A rectangle in normalised device coordinates: [0, 1] over the page, y up.
struct Box {
  double x0, x1, y0, y1;
};

struct Size {
  double width, height;  // pixels
};

struct Margins {
  double left, right, bottom, top;  // in multiples of the font size
};

std::string panel_where(const char* method, int row, int col) {
  return std::string("plot::Figure::") + method + "(" + std::to_string(row) + ", " +
         std::to_string(col) + ")";
}

std::vector<double> to_vector(const torch::Tensor& t) {
  const auto flat = t.detach().to(torch::kCPU, torch::kFloat64).contiguous().flatten();
  return {flat.data_ptr<double>(), flat.data_ptr<double>() + flat.numel()};
}

// Sets the colour maps: black on white for axes and text, line colours after
// them, then the lines' band tints, viridis for values.
void set_colours(plstream& pls) {
  pls.spal0("cmap0_black_on_white.pal");
  const auto& lines = line_colours();
  const auto n = static_cast<int>(lines.size());
  pls.scmap0n(kFirstLineColour + 2 * n);  // keeps the palette's first colours
  for (int i = 0; i < n; ++i) {
    pls.scol0(kFirstLineColour + i, lines[i].r, lines[i].g, lines[i].b);
    pls.scol0a(kFirstLineColour + n + i, lines[i].r, lines[i].g, lines[i].b, kBandAlpha);
  }
  const auto& points = viridis_control_points();
  std::vector<PLFLT> position, r, g, b;
  for (size_t i = 0; i < points.size(); ++i) {
    position.push_back(static_cast<double>(i) / static_cast<double>(points.size() - 1));
    r.push_back(points[i].r / 255.0);
    g.push_back(points[i].g / 255.0);
    b.push_back(points[i].b / 255.0);
  }
  pls.scmap1n(256);
  pls.scmap1l(true, static_cast<PLINT>(points.size()), position.data(), r.data(), g.data(),
              b.data(), nullptr);
}

// The smallest and largest value, widened when equal so a constant grid still
// maps to one colour of a valid scale.
std::pair<double, double> value_range(const std::vector<double>& values) {
  auto [low, high] = std::minmax_element(values.begin(), values.end());
  double a = *low, b = *high;
  if (!(b > a)) {
    const double pad = std::max(std::abs(a), 1.0) * 0.5;
    a -= pad;
    b += pad;
  }
  return {a, b};
}

// PLplot's 2-D arrays are z[ix][iy]; our grids are values[iy][ix].  With
// `pad`, one more column and row repeat the last ones: plimagefr() takes its
// data as cell corners and colours the cell above-right of each corner, so
// nx x ny cells need (nx + 1) x (ny + 1) corners.
struct Columns {
  std::vector<PLFLT> data;
  std::vector<const PLFLT*> rows;
  Columns(const std::vector<double>& values, int64_t nx, int64_t ny, bool pad) {
    const int64_t mx = nx + pad, my = ny + pad;
    data.resize(mx * my);
    for (int64_t ix = 0; ix < mx; ++ix)
      for (int64_t iy = 0; iy < my; ++iy)
        data[ix * my + iy] = values[std::min(iy, ny - 1) * nx + std::min(ix, nx - 1)];
    for (int64_t ix = 0; ix < mx; ++ix) rows.push_back(data.data() + ix * my);
  }
};

// The cmap0 index of line i's colour, and of its band's tint.
int line_colour(size_t i) { return kFirstLineColour + static_cast<int>(i % line_colours().size()); }
int tint_colour(size_t i) { return line_colour(i) + static_cast<int>(line_colours().size()); }

// Widens [low, high] to span `values`.
void span(const std::vector<double>& values, double& low, double& high) {
  if (values.empty()) return;
  const auto [a, b] = std::minmax_element(values.begin(), values.end());
  low = std::min(low, *a);
  high = std::max(high, *b);
}

// A tick spacing of 1, 2 or 5 times a power of ten that puts at most
// `max_ticks` intervals on [low, high] (at least one), so labels never overlap.
double tick_step(double low, double high, double max_ticks) {
  const double raw = (high - low) / std::max(max_ticks, 1.0);
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (const double m : {1.0, 2.0, 5.0})
    if (m * power >= raw * (1 - 1e-9)) return m * power;
  return 10 * power;
}

// Pixels per tick interval along x (a label like "-0.25" and a gap) and y.
constexpr double kXTickPx = 4 * kFontPx, kYTickPx = 2.5 * kFontPx;

class Painter {
 public:
  Painter(plstream& pls, int width, int height) : pls_(pls), width_(width), height_(height) {}

  // Sets the viewport to `cell` less `margins`; returns its size.
  Size viewport(const Box& cell, const Margins& m) {
    const double x0 = cell.x0 + m.left * kFontPx / width_;
    const double x1 = cell.x1 - m.right * kFontPx / width_;
    const double y0 = cell.y0 + m.bottom * kFontPx / height_;
    const double y1 = cell.y1 - m.top * kFontPx / height_;
    pls_.vpor(x0, x1, y0, y1);
    return {(x1 - x0) * width_, (y1 - y0) * height_};
  }

  void labels(const PanelStyle& style) {
    pls_.col0(kBlack);
    pls_.mtex("t", 1.2, 0.5, 0.5, style.title.c_str());
    pls_.mtex("b", 3.0, 0.5, 0.5, style.x_label.c_str());
    pls_.mtex("l", 4.6, 0.5, 0.5, style.y_label.c_str());
  }

  void heatmap(const Box& cell, const PanelStyle& style, const std::vector<double>& values,
               int64_t nx, int64_t ny, const Extent& e, const std::vector<Line>& overlay) {
    const Size size = viewport(cell, {6.0, style.colorbar ? 9.0 : 1.5, 4.8, 2.4});
    pls_.wind(e.x_min, e.x_max, e.y_min, e.y_max);
    const auto [low, high] = value_range(values);
    const Columns z(values, nx, ny, /*pad=*/true);
    pls_.imagefr(z.rows.data(), static_cast<PLINT>(nx + 1), static_cast<PLINT>(ny + 1), e.x_min,
                 e.x_max, e.y_min, e.y_max, low, high, low, high, nullptr, nullptr);
    for (size_t i = 0; i < overlay.size(); ++i)  // points()
      dots(overlay[i], line_colour(i), kSampleDotScale);
    axes(e.x_min, e.x_max, e.y_min, e.y_max, size);
    labels(style);
    if (style.colorbar) colorbar(low, high, style.value_label, size);
  }

  void lines(const Box& cell, const PanelStyle& style, const std::vector<Line>& lines) {
    const Size size = viewport(cell, {6.0, 1.5, 4.8, 2.4});
    double x_low = INFINITY, x_high = -INFINITY, y_low = INFINITY, y_high = -INFINITY;
    for (const auto& line : lines) {
      span(line.x, x_low, x_high);
      for (const auto* values : {&line.y, &line.lower, &line.upper}) span(*values, y_low, y_high);
    }
    if (!(x_high > x_low)) std::tie(x_low, x_high) = value_range({x_low});
    if (!(y_high > y_low)) std::tie(y_low, y_high) = value_range({y_low});
    // 5% above and below; markers also keep their dots clear of the frame, so
    // that none is cut in half.
    const double dot_px =
        std::any_of(lines.begin(), lines.end(), [](const Line& l) { return l.markers; })
            ? kMarkerMarginPx
            : 0.0;
    const double x_pad = dot_px / size.width * (x_high - x_low);
    const double y_pad = std::max(0.05, dot_px / size.height) * (y_high - y_low);
    x_low -= x_pad, x_high += x_pad, y_low -= y_pad, y_high += y_pad;
    pls_.wind(x_low, x_high, y_low, y_high);
    // Every band first, so that no band hides a line or the frame.
    for (size_t i = 0; i < lines.size(); ++i) band(lines[i], tint_colour(i));
    axes(x_low, x_high, y_low, y_high, size);
    pls_.width(2.0);
    for (size_t i = 0; i < lines.size(); ++i) {
      if (lines[i].markers) {
        dots(lines[i], line_colour(i), kMarkerDotScale);
        continue;
      }
      pls_.col0(line_colour(i));
      pls_.line(static_cast<PLINT>(lines[i].x.size()), lines[i].x.data(), lines[i].y.data());
    }
    pls_.width(1.0);
    labels(style);
    legend(lines);
  }

  void surface(const Box& cell, const PanelStyle& style, const std::vector<double>& values,
               int64_t nx, int64_t ny, const Extent& e) {
    viewport(cell, {0.5, 0.5, 0.5, 2.2});
    pls_.wind(-1.0, 1.0, -0.9, 1.35);  // headroom for the z axis's "(x10^k)" label
    const auto [low, high] = value_range(values);
    pls_.col0(kBlack);
    pls_.w3d(1.0, 1.0, 1.0, e.x_min, e.x_max, e.y_min, e.y_max, low, high, 30.0, -60.0);
    // The 3-D x and y axes are short and slanted: a few ticks each.
    pls_.box3("bnstu", style.x_label.c_str(), tick_step(e.x_min, e.x_max, 3), 0, "bnstu",
              style.y_label.c_str(), tick_step(e.y_min, e.y_max, 3), 0, "bnstu",
              style.value_label.c_str(), 0, 0);
    std::vector<PLFLT> x(nx), y(ny);
    for (int64_t i = 0; i < nx; ++i) x[i] = e.x_min + (i + 0.5) * (e.x_max - e.x_min) / nx;
    for (int64_t i = 0; i < ny; ++i) y[i] = e.y_min + (i + 0.5) * (e.y_max - e.y_min) / ny;
    const Columns z(values, nx, ny, /*pad=*/false);
    pls_.surf3d(x.data(), y.data(), z.rows.data(), static_cast<PLINT>(nx), static_cast<PLINT>(ny),
                MAG_COLOR, nullptr, 0);
    pls_.col0(kBlack);
    pls_.mtex("t", 1.2, 0.5, 0.5, style.title.c_str());
  }

 private:
  // The polygon along (x, upper) and back along (x, lower); a band of one
  // point has no area, and plfill() needs three corners.
  void band(const Line& line, int colour) {
    if (line.lower.empty() || line.x.size() < 2) return;
    std::vector<PLFLT> x(line.x), y(line.upper);
    x.insert(x.end(), line.x.rbegin(), line.x.rend());
    y.insert(y.end(), line.lower.rbegin(), line.lower.rend());
    pls_.col0(colour);
    pls_.fill(static_cast<PLINT>(x.size()), x.data(), y.data());
  }

  void dots(const Line& line, int colour, double scale) {
    pls_.col0(colour);
    pls_.ssym(0.0, scale);
    pls_.sym(static_cast<PLINT>(line.x.size()), line.x.data(), line.y.data(), kDot);
  }

  void axes(double x_low, double x_high, double y_low, double y_high, const Size& size) {
    pls_.col0(kBlack);
    pls_.box("bcnst", tick_step(x_low, x_high, size.width / kXTickPx), 0, "bcnstv",
             tick_step(y_low, y_high, size.height / kYTickPx), 0);
  }

  void colorbar(double low, double high, const std::string& label, const Size& size) {
    PLFLT width = 0, height = 0;
    PLINT label_opts[] = {PL_COLORBAR_LABEL_RIGHT};
    const char* labels[] = {label.c_str()};
    const char* axis_opts[] = {"bcvtm"};
    PLFLT ticks[] = {tick_step(low, high, size.height / kYTickPx)};
    PLINT sub_ticks[] = {0};
    PLINT n_values[] = {2};
    const PLFLT range[] = {low, high};
    const PLFLT* values[] = {range};
    pls_.colorbar(&width, &height, PL_COLORBAR_IMAGE,
                  PL_POSITION_RIGHT | PL_POSITION_OUTSIDE | PL_POSITION_VIEWPORT,
                  1.0 * kFontPx / size.width, 0.0, 1.2 * kFontPx / size.width, 1.0, 0, kBlack, 1,
                  0.0, 0.0, 0, 0.0, label.empty() ? 0 : 1, label_opts, labels, 1, axis_opts, ticks,
                  sub_ticks, n_values, values);
  }

  void legend(const std::vector<Line>& lines) {
    if (std::none_of(lines.begin(), lines.end(), [](const Line& l) { return !l.label.empty(); }))
      return;
    const auto n = static_cast<PLINT>(lines.size());
    std::vector<PLINT> opts(n), text_colours(n, kBlack), colours(n), styles(n, 1), dots(n, 1);
    std::vector<PLFLT> widths(n, 2.0), dot_scales(n, kLegendDotScale);
    std::vector<const char*> text(n), dot_glyphs(n, kDotText);
    for (PLINT i = 0; i < n; ++i) {
      opts[i] = lines[i].markers ? PL_LEGEND_SYMBOL : PL_LEGEND_LINE;
      colours[i] = line_colour(i);
      text[i] = lines[i].label.c_str();
    }
    PLFLT width = 0, height = 0;
    pls_.legend(&width, &height, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
                PL_POSITION_TOP | PL_POSITION_RIGHT | PL_POSITION_INSIDE | PL_POSITION_VIEWPORT,
                0.02, 0.03, 0.08, 0, kBlack, 1, 0, 0, n, opts.data(), 1.0, 1.0, 2.0, 0.0,
                text_colours.data(), text.data(), nullptr, nullptr, nullptr, nullptr,
                colours.data(), styles.data(), widths.data(), colours.data(), dot_scales.data(),
                dots.data(), dot_glyphs.data());
  }

  plstream& pls_;
  int width_, height_;
};

}  // namespace

Figure::Figure(int rows, int cols, int width_px, int height_px, std::string title)
    : rows_(rows), cols_(cols), width_(width_px), height_(height_px), title_(std::move(title)) {
  const std::string where = "plot::Figure";
  check_positive(rows, "rows", where);
  check_positive(cols, "cols", where);
  for (const auto& [name, size] : {std::pair{"width_px", width_px}, {"height_px", height_px}})
    if (size < kMinSize || size > kMaxSize)
      throw Error(where + ": argument '" + name + "' must be in [" + std::to_string(kMinSize) +
                  ", " + std::to_string(kMaxSize) + "] pixels, got " + std::to_string(size));
  if (width_px / cols < kMinPanelWidth || height_px / rows < kMinPanelHeight)
    throw Error(where + ": " + std::to_string(rows) + " x " + std::to_string(cols) + " panels on " +
                std::to_string(width_px) + " x " + std::to_string(height_px) + " pixels leave " +
                std::to_string(width_px / cols) + " x " + std::to_string(height_px / rows) +
                " pixels per panel; expected at least " + std::to_string(kMinPanelWidth) + " x " +
                std::to_string(kMinPanelHeight));
  panels_.resize(static_cast<size_t>(rows) * cols);
}

Figure::Panel& Figure::empty_panel(int row, int col, const std::string& where) {
  if (row < 0 || row >= rows_ || col < 0 || col >= cols_)
    throw Error(where + ": no such panel; the figure has rows 0.." + std::to_string(rows_ - 1) +
                " and columns 0.." + std::to_string(cols_ - 1));
  Panel& panel = panels_[static_cast<size_t>(row) * cols_ + col];
  if (panel.kind != Panel::Kind::kEmpty) throw Error(where + ": the panel is already filled");
  return panel;
}

// A heatmap or surface panel: the grid's values copied, [ny][nx] row-major.
Figure::Panel Figure::grid_panel(Panel::Kind kind, const Grid2D& grid, const PanelStyle& style) {
  return {kind,        style, to_vector(grid.values), grid.values.size(1), grid.values.size(0),
          grid.extent, {}};
}

Figure& Figure::heatmap(int row, int col, const Grid2D& grid, const PanelStyle& style) {
  const auto where = panel_where("heatmap", row, col);
  Panel& panel = empty_panel(row, col, where);
  check_grid(grid, "grid", where);
  panel = grid_panel(Panel::Kind::kHeatmap, grid, style);
  return *this;
}

Figure& Figure::points(int row, int col, const torch::Tensor& xy) {
  const auto where = panel_where("points", row, col);
  if (row < 0 || row >= rows_ || col < 0 || col >= cols_ ||
      panels_[row * cols_ + col].kind != Panel::Kind::kHeatmap)
    throw Error(where + ": points go over a heatmap; draw the heatmap in this panel first");
  check_floating(xy, "xy", where);
  if (xy.dim() != 2 || xy.size(1) != 2 || xy.size(0) < 1)
    throw Error(where + ": argument 'xy' must have shape [N, 2] with N >= 1, got " +
                shape_string(xy.sizes()));
  check_finite(xy, "xy", where);
  auto cpu = xy.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  Line dots;
  dots.x = to_vector(cpu.select(1, 0));
  dots.y = to_vector(cpu.select(1, 1));
  panels_[row * cols_ + col].lines.push_back(std::move(dots));
  return *this;
}

Figure& Figure::surface3d(int row, int col, const Grid2D& grid, const PanelStyle& style) {
  const auto where = panel_where("surface3d", row, col);
  Panel& panel = empty_panel(row, col, where);
  check_grid(grid, "grid", where);
  if (grid.values.size(0) < 2 || grid.values.size(1) < 2)
    throw Error(where + ": argument 'grid.values' needs at least 2 x 2 values for a surface, got " +
                shape_string(grid.values.sizes()));
  panel = grid_panel(Panel::Kind::kSurface, grid, style);
  return *this;
}

Figure& Figure::lines(int row, int col, const std::vector<Line>& lines, const PanelStyle& style) {
  const auto where = panel_where("lines", row, col);
  Panel& panel = empty_panel(row, col, where);
  if (lines.empty()) throw Error(where + ": argument 'lines' is empty; pass at least one line");
  for (size_t i = 0; i < lines.size(); ++i) {
    const Line& line = lines[i];
    const auto arg = "lines[" + std::to_string(i) + "]";
    const auto x_size = std::to_string(line.x.size());
    if (line.x.empty() || line.x.size() != line.y.size())
      throw Error(where + ": argument '" + arg + "' needs x and y of the same length >= 1, got " +
                  x_size + " and " + std::to_string(line.y.size()));
    if (line.lower.empty() != line.upper.empty())
      throw Error(where + ": arguments '" + arg + ".lower' and '" + arg +
                  ".upper' make a band together: give both or neither, got " +
                  std::to_string(line.lower.size()) + " and " + std::to_string(line.upper.size()) +
                  " values");
    for (const auto& [name, values] :
         {std::pair{".lower", &line.lower}, std::pair{".upper", &line.upper}})
      if (!values->empty() && values->size() != line.x.size())
        throw Error(where + ": argument '" + arg + name + "' needs one value per x (" + x_size +
                    "), got " + std::to_string(values->size()));
    for (const auto& [name, values] :
         {std::pair{".x", &line.x}, std::pair{".y", &line.y}, std::pair{".lower", &line.lower},
          std::pair{".upper", &line.upper}})
      if (!std::all_of(values->begin(), values->end(), [](double v) { return std::isfinite(v); }))
        throw Error(where + ": argument '" + arg + name +
                    "' must be finite, but holds NaN or infinite values");
    for (size_t k = 0; k < line.lower.size(); ++k)
      if (line.lower[k] > line.upper[k])
        throw Error(where + ": argument '" + arg + ".lower' must be <= '" + arg +
                    ".upper' everywhere, but at index " + std::to_string(k) + " lower = " +
                    number_string(line.lower[k]) + " > upper = " + number_string(line.upper[k]));
  }
  panel.kind = Panel::Kind::kLines;
  panel.style = style;
  panel.lines = lines;
  return *this;
}

void Figure::draw(plstream& pls) const {
  pls.schr(kFontPx * kMmPerPx, 1.0);
  pls.adv(0);
  const double title_height = title_.empty() ? 0.0 : 2.4 * kFontPx / height_;
  const double cell_width = 1.0 / cols_, cell_height = (1.0 - title_height) / rows_;
  Painter painter(pls, width_, height_);
  for (int r = 0; r < rows_; ++r) {
    for (int c = 0; c < cols_; ++c) {
      const Panel& p = panels_[static_cast<size_t>(r) * cols_ + c];
      const double top = 1.0 - title_height - r * cell_height;
      const Box cell{c * cell_width, (c + 1) * cell_width, top - cell_height, top};
      switch (p.kind) {
        case Panel::Kind::kHeatmap:
          painter.heatmap(cell, p.style, p.values, p.nx, p.ny, p.extent, p.lines);
          break;
        case Panel::Kind::kLines:
          painter.lines(cell, p.style, p.lines);
          break;
        case Panel::Kind::kSurface:
          painter.surface(cell, p.style, p.values, p.nx, p.ny, p.extent);
          break;
        case Panel::Kind::kEmpty:
          break;
      }
    }
  }
  if (!title_.empty()) {
    pls.vpor(0.0, 1.0, 1.0 - title_height, 1.0);
    pls.wind(0.0, 1.0, 0.0, 1.0);
    pls.col0(kBlack);
    pls.schr(0, 1.25);
    pls.ptex(0.5, 0.45, 1.0, 0.0, 0.5, title_.c_str());
    pls.schr(0, 1.0);
  }
}

void Figure::save(const std::string& path) const {
  const std::string where = "plot::Figure::save";
  AtomicFile file(path, where);
  std::unique_ptr<FILE, int (*)(FILE*)> out(std::fopen(file.temporary().c_str(), "wb"),
                                            &std::fclose);
  if (!out) file.fail("cannot create the file");
  {
    Session session(where);
    plstream& pls = session.stream();
    pls.sdev("pngcairo");
    pls.spage(0, 0, width_, height_, 0, 0);
    set_colours(pls);
    pls.sfile(out.release());  // PLplot closes it when the stream ends
    pls.init();
    draw(pls);
    session.check();
  }
  // Cairo ignores write errors: a complete PNG ends with its IEND chunk.
  std::unique_ptr<FILE, int (*)(FILE*)> in(std::fopen(file.temporary().c_str(), "rb"),
                                           &std::fclose);
  char tail[8] = {};
  if (!in || std::fseek(in.get(), -8, SEEK_END) != 0 || std::fread(tail, 1, 8, in.get()) != 8 ||
      std::string(tail, 4) != "IEND")
    file.fail("the PNG file is incomplete (disk full?)");
  file.commit();
}

Image Figure::render() const {
  Image image{width_, height_,
              std::vector<uint8_t>(static_cast<size_t>(width_) * height_ * 4, 255)};
  {
    Session session("plot::Figure::render");
    plstream& pls = session.stream();
    pls.sdev("memcairo");
    // memcairo draws over the buffer's pixels (from opaque white) and copies
    // the page into it when the stream ends, at the end of this scope.
    pls.smema(width_, height_, image.rgba.data());
    set_colours(pls);
    pls.init();
    draw(pls);
    session.check();
  }
  return image;
}

}  // namespace diffeo::plot
