#pragma once
// Animation: figures as the frames of a looping GIF.

#include <cstdint>
#include <string>
#include <vector>

#include "diffeo/plot/figure.h"

namespace diffeo::plot {

/// A sequence of frames saved as an animated GIF that loops forever, e.g. a
/// flow's density after each stage of training.  add_frame() renders a Figure
/// at once (in memory) and keeps it as 256-colour pixels: each pixel becomes
/// the nearest colour of a fixed palette of 32 greys, the line colours and
/// 216 viridis shades, which is exact for the plots' own colours and close for
/// their anti-aliased edges.  Every frame must have the first frame's size.
class Animation {
 public:
  /// Renders `figure` and appends it as the next frame.
  void add_frame(const Figure& figure);
  /// Appends pixels already rendered (e.g. an image_grid of samples).
  void add_frame(const Image& image);

  int64_t frames() const { return static_cast<int64_t>(frames_.size()); }

  /// Writes the frames as a GIF89a file, showing each for `delay_ms`
  /// milliseconds (GIF counts in 10 ms steps: rounded, at least 10 ms).
  /// Written under a temporary name and renamed into place.  Throws
  /// diffeo::Error with no frames, delay_ms < 1 or an unwritable path.
  void save_gif(const std::string& path, int delay_ms = 200) const;

 private:
  int width_ = 0, height_ = 0;
  std::vector<std::vector<uint8_t>> frames_;  // palette indices, row-major, top row first
};

}  // namespace diffeo::plot
