#pragma once
// The colours every plot uses: viridis for values, a qualitative set for lines.

#include <cstdint>
#include <vector>

namespace diffeo::plot {

/// An opaque 8-bit sRGB colour.
struct Rgb {
  uint8_t r, g, b;
};

/// The viridis colour map (perceptually uniform, readable in grey and by
/// colour-blind readers) at position t in [0, 1] (clamped): dark purple at 0,
/// teal at 0.5, yellow at 1.  Piecewise linear through nine control points
/// sampled from matplotlib's viridis.
Rgb viridis(double t);

/// The nine control points of viridis(), at positions 0, 1/8, ..., 1.
const std::vector<Rgb>& viridis_control_points();

/// The colours of lines 1, 2, ... in a lines() panel (matplotlib's "tab10"
/// order: blue, orange, green, red, purple, brown, pink, grey); line i uses
/// colour i modulo their number.
const std::vector<Rgb>& line_colours();

}  // namespace diffeo::plot
