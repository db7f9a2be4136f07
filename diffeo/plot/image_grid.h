#pragma once
// Pictures of image samples: a grid of small images as pixels, and PNG files.

#include <torch/torch.h>

#include <string>

#include "diffeo/plot/figure.h"

namespace diffeo::plot {

/// Options of image_grid: layout and magnification.
struct ImageGridOptions {
  /// Images per row (0: the smallest square grid that holds them all).
  TORCH_ARG(int64_t, columns) = 0;
  /// Each image pixel becomes zoom x zoom screen pixels.
  TORCH_ARG(int64_t, zoom) = 3;
  /// Pixels of background between and around the images.
  TORCH_ARG(int64_t, padding) = 2;
};

/// Tiles `images` [N, C, H, W] (C = 1 grey or 3 RGB; values in [0, 1], clamped,
/// NaN drawn red so a broken sample is visible) into one picture on a dark
/// grey background, row by row: the layout of a sample grid.  diffeo::Error
/// for another shape, C not 1 or 3, no images, or bad options.
Image image_grid(const torch::Tensor& images, const ImageGridOptions& options = {});

/// Writes `image` as an 8-bit RGBA PNG with libpng (data::write_png), under a
/// temporary name renamed into place, so a failed write leaves no partial file.
/// data::read_png reads it back as RGB [3, H, W] when every pixel is opaque,
/// as image_grid's are.
void save_png(const Image& image, const std::string& path);

}  // namespace diffeo::plot
