#include "diffeo/plot/palette.h"

#include <algorithm>
#include <cmath>

namespace diffeo::plot {

const std::vector<Rgb>& viridis_control_points() {
  static const std::vector<Rgb> points = {{68, 1, 84},    {72, 40, 120},  {62, 73, 137},
                                          {49, 104, 142}, {38, 130, 142}, {31, 158, 137},
                                          {53, 183, 121}, {110, 206, 88}, {253, 231, 37}};
  return points;
}

Rgb viridis(double t) {
  const auto& points = viridis_control_points();
  const double position = std::clamp(t, 0.0, 1.0) * static_cast<double>(points.size() - 1);
  const auto i = std::min(static_cast<size_t>(position), points.size() - 2);
  const double w = position - static_cast<double>(i);
  const auto mix = [w](uint8_t a, uint8_t b) {
    return static_cast<uint8_t>(std::lround((1 - w) * a + w * b));
  };
  const Rgb& a = points[i];
  const Rgb& b = points[i + 1];
  return {mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b)};
}

const std::vector<Rgb>& line_colours() {
  static const std::vector<Rgb> colours = {{31, 119, 180},  {255, 127, 14},  {44, 160, 44},
                                           {214, 39, 40},   {148, 103, 189}, {140, 86, 75},
                                           {227, 119, 194}, {127, 127, 127}};
  return colours;
}

}  // namespace diffeo::plot
