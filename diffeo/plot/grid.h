#pragma once
// Grid2D: values on a regular grid over a rectangle, and the two ways to make
// one from a model (a density on the grid) or from data (a 2-D histogram).

#include <torch/torch.h>

#include <functional>
#include <string>

#include "diffeo/data/toy.h"

namespace diffeo::plot {

/// The rectangle [x_min, x_max] x [y_min, y_max] of the plane that a grid or
/// a panel covers: the toy densities' PlotRange, so their ranges plot as they
/// are.  Bounds must be finite with x_min < x_max and y_min < y_max.
using Extent = data::PlotRange;

/// Values on a regular grid of cells that tiles `extent`: `values` has shape
/// [ny, nx], and values[i][j] belongs to the cell in row i (counted from
/// y_min upwards) and column j (from x_min rightwards).  Any floating dtype
/// and device; plots copy the values to the CPU.
struct Grid2D {
  torch::Tensor values;
  Extent extent;
};

/// A 2-D histogram of `samples` [N, 2] (columns x, y) with `bins` x `bins`
/// equal cells over `extent`, normalised to a density: cell value = count /
/// (N * cell area), so it estimates the samples' density and is comparable to
/// density_grid().  Samples outside `extent` are not drawn but still count in
/// N (the grid then integrates to less than 1); a sample on the upper edge
/// falls in the last cell.  The values have the samples' dtype and device.
/// Throws diffeo::Error for a wrong shape, no samples, NaN/inf samples, a bad
/// extent or bins < 1.
Grid2D histogram2d(const torch::Tensor& samples, const Extent& extent, int64_t bins);

/// exp(log_prob(points)) at the centres of `n` x `n` equal cells over
/// `extent`, computed under torch::NoGradGuard.  `log_prob` receives the
/// centres as one [n * n, 2] tensor created with `options` (the default dtype
/// on the CPU unless given; pass the model's dtype and device) and must return
/// n * n log densities.  Throws diffeo::Error for a bad extent, n < 1, a result
/// of the wrong shape, or a NaN or +inf log density (-inf is a density of 0).
Grid2D density_grid(const std::function<torch::Tensor(const torch::Tensor&)>& log_prob,
                    const Extent& extent, int64_t n, const torch::TensorOptions& options = {});

/// Throws diffeo::Error (prefixed by `where`) unless `extent` is finite with
/// x_min < x_max and y_min < y_max.
void check_extent(const Extent& extent, const std::string& arg, const std::string& where);

/// Throws diffeo::Error unless `grid` holds a non-empty, finite, floating
/// [ny, nx] tensor over a valid extent.
void check_grid(const Grid2D& grid, const std::string& arg, const std::string& where);

}  // namespace diffeo::plot
