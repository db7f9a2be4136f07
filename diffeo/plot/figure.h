#pragma once
// Figure: a grid of panels (heatmaps, line plots, 3-D surfaces) saved as PNG.

#include <cstdint>
#include <string>
#include <vector>

#include "diffeo/plot/grid.h"

class plstream;  // PLplot's C++ stream; only diffeo/plot/*.cpp include <plstream.h>.

namespace diffeo::plot {

/// The text around one panel.  Text may use PLplot's escapes: "#u" starts a
/// superscript and "#d" a subscript, each ended by the opposite one
/// ("x#d1#u" is x with subscript 1, "e#u-x#d" is e to the -x); "##" is a
/// literal '#'.  `value_label` names the values: the colour bar's label of a
/// heatmap, the z axis of a surface.  `colorbar` draws a heatmap's colour bar.
struct PanelStyle {
  std::string title, x_label, y_label, value_label;
  bool colorbar = true;
};

/// One curve of a lines() panel: points (x[i], y[i]) joined in order, and its
/// legend entry (the legend is drawn when any line of the panel has a label).
/// `lower` and `upper` (both or neither, each as long as x, lower <= upper)
/// shade the region between them in the line's colour at 30% opacity, under
/// every line of the panel (a predictive mean's +-3 sd band, say); the band's
/// polygon runs along (x, upper) and back along (x, lower), so give x sorted.
/// `markers` draws the points as dots, not joined (training data, say), and
/// its legend entry shows a dot.  Both come after `label`, so {x, y, "label"}
/// still makes a plain curve.
struct Line {
  std::vector<double> x, y;
  std::string label;
  std::vector<double> lower, upper;
  bool markers = false;
};

/// Pixels of a rendered figure: `rgba` holds height rows of width pixels, top
/// row first, 4 bytes (red, green, blue, alpha) per pixel.
struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> rgba;
};

/// A figure of rows x cols panels on a white page of width_px x height_px
/// pixels, with an optional title on top.  heatmap(), lines() and surface3d()
/// fill one panel each (panels left empty stay blank) and copy their data, so
/// the figure does not change when the caller's tensors do.  Nothing is drawn
/// until save() or render(): both draw with PLplot's cairo drivers at a fixed
/// pixel size and font size (13 px), viridis for values (palette.h), black
/// text on white.  A Figure may be saved from any thread (PLplot's use is
/// serialised, see Session).  Every bad input throws a diffeo::Error when it
/// is given, naming the argument.
class Figure {
 public:
  /// rows, cols >= 1; width_px and height_px in [100, 3000].
  Figure(int rows, int cols, int width_px = 800, int height_px = 600, std::string title = "");

  /// The grid as an image with a colour bar: cell colours are viridis, from
  /// the smallest value (dark purple) to the largest (yellow).
  Figure& heatmap(int row, int col, const Grid2D& grid, const PanelStyle& style = {});

  /// Dots at the rows of `xy` [N, 2] over the heatmap already in this panel
  /// (e.g. the data under a fitted density), in the next line colour.
  Figure& points(int row, int col, const torch::Tensor& xy);
  /// Curves on common axes spanning all their points and bands (5% more above
  /// and below; with markers, a dot's radius more on every side), in
  /// line_colours() order.  Each line needs x and y of the same length >= 1,
  /// and lower and upper as Line says; all values finite.
  Figure& lines(int row, int col, const std::vector<Line>& lines, const PanelStyle& style = {});

  /// The grid as a 3-D surface over its extent (cell centres), coloured with
  /// viridis by height, seen from 30 degrees above; style.colorbar is unused.
  /// Keep grids small (up to ~100 x 100): each cell is a polygon.
  Figure& surface3d(int row, int col, const Grid2D& grid, const PanelStyle& style = {});

  /// Writes the figure as a PNG file of width_px x height_px pixels.  The file
  /// is written under a temporary name and renamed into place.  Throws
  /// diffeo::Error for an unwritable path (naming it and the reason).
  void save(const std::string& path) const;

  /// Draws the figure into memory (for animations and tests).
  Image render() const;

  int width() const { return width_; }
  int height() const { return height_; }

 private:
  struct Panel {
    enum class Kind { kEmpty, kHeatmap, kLines, kSurface } kind = Kind::kEmpty;
    PanelStyle style;
    std::vector<double> values;  // grid values [ny][nx] row-major
    int64_t nx = 0, ny = 0;
    Extent extent{};
    std::vector<Line> lines;
  };

  Panel& empty_panel(int row, int col, const std::string& where);
  static Panel grid_panel(Panel::Kind kind, const Grid2D& grid, const PanelStyle& style);
  void draw(plstream& stream) const;

  int rows_, cols_, width_, height_;
  std::string title_;
  std::vector<Panel> panels_;  // row-major
};

}  // namespace diffeo::plot
