#include "diffeo/plot/grid.h"

#include <cmath>

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"

namespace diffeo::plot {

void check_extent(const Extent& extent, const std::string& arg, const std::string& where) {
  const auto check_axis = [&](const char* axis, double low, double high) {
    if (!std::isfinite(low) || !std::isfinite(high) || !(low < high))
      throw Error(where + ": argument '" + arg + "' needs finite " + axis + "_min < " + axis +
                  "_max, got " + axis + "_min = " + number_string(low) + " and " + axis +
                  "_max = " + number_string(high));
  };
  check_axis("x", extent.x_min, extent.x_max);
  check_axis("y", extent.y_min, extent.y_max);
}

void check_grid(const Grid2D& grid, const std::string& arg, const std::string& where) {
  check_floating(grid.values, arg + ".values", where);
  if (grid.values.dim() != 2 || grid.values.numel() == 0)
    throw Error(where + ": argument '" + arg +
                ".values' must be a non-empty [ny, nx] tensor, got shape " +
                shape_string(grid.values.sizes()));
  check_finite(grid.values, arg + ".values", where);
  check_extent(grid.extent, arg + ".extent", where);
}

Grid2D histogram2d(const torch::Tensor& samples, const Extent& extent, int64_t bins) {
  const std::string where = "plot::histogram2d";
  check_floating(samples, "samples", where);
  if (samples.dim() != 2 || samples.size(1) != 2 || samples.size(0) == 0)
    throw Error(where + ": argument 'samples' must have shape [N, 2] with N >= 1, got " +
                shape_string(samples.sizes()));
  check_finite(samples, "samples", where);
  check_extent(extent, "extent", where);
  check_positive(bins, "bins", where);

  torch::NoGradGuard no_grad;
  const auto x = samples.select(1, 0), y = samples.select(1, 1);
  const auto inside =
      (x >= extent.x_min) & (x <= extent.x_max) & (y >= extent.y_min) & (y <= extent.y_max);
  // Cell index along one axis; the upper edge belongs to the last cell.
  const auto cell = [bins](const torch::Tensor& v, double low, double high) {
    return ((v - low) * (bins / (high - low))).floor().clamp(0, bins - 1).to(torch::kLong);
  };
  const auto flat =
      cell(y, extent.y_min, extent.y_max) * bins + cell(x, extent.x_min, extent.x_max);
  const auto counts = torch::bincount(flat.masked_select(inside), {}, bins * bins);
  const double cell_area = (extent.x_max - extent.x_min) * (extent.y_max - extent.y_min) /
                           static_cast<double>(bins * bins);
  const auto density =
      counts.to(samples.scalar_type()) / (static_cast<double>(samples.size(0)) * cell_area);
  return {density.reshape({bins, bins}), extent};
}

Grid2D density_grid(const std::function<torch::Tensor(const torch::Tensor&)>& log_prob,
                    const Extent& extent, int64_t n, const torch::TensorOptions& options) {
  const std::string where = "plot::density_grid";
  check_extent(extent, "extent", where);
  check_positive(n, "n", where);

  torch::NoGradGuard no_grad;
  const auto centres = [&](double low, double high) {
    return low + (torch::arange(n, options) + 0.5) * ((high - low) / static_cast<double>(n));
  };
  const auto mesh = torch::meshgrid(
      {centres(extent.y_min, extent.y_max), centres(extent.x_min, extent.x_max)}, "ij");
  const auto points = torch::stack({mesh[1].flatten(), mesh[0].flatten()}, 1);
  const auto log_density = log_prob(points);
  check_floating(log_density, "log_prob(points)", where);
  if (log_density.numel() != n * n)
    throw Error(where + ": 'log_prob' must return one value per point (" + std::to_string(n * n) +
                "), got shape " + shape_string(log_density.sizes()));
  const auto bad = (torch::isnan(log_density) | (log_density == INFINITY)).sum().item<int64_t>();
  if (bad > 0)
    throw Error(where + ": 'log_prob' returned NaN or +inf at " + std::to_string(bad) + " of " +
                std::to_string(n * n) + " grid points; expected log densities (-inf is allowed)");
  return {log_density.detach().exp().reshape({n, n}), extent};
}

}  // namespace diffeo::plot
