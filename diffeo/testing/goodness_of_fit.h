#pragma once
// Goodness-of-fit checks for 2-D densities: quadrature on a grid and Pearson's
// chi-square of samples against the bin masses a density predicts.

#include <diffeo/data/toy.h>
#include <torch/torch.h>

#include <functional>
#include <utility>

namespace diffeo::testing {

using LogDensity = std::function<torch::Tensor(const torch::Tensor&)>;

/// Cell midpoints of an n x n grid on `box`, [n * n, 2] float64 (row-major in
/// the first coordinate), and the cell area.
std::pair<torch::Tensor, double> grid_midpoints(const data::PlotRange& box, int64_t n);

/// The integral of exp(log_prob) over `box` by the midpoint rule on n x n cells.
double integrate(const LogDensity& log_prob, const data::PlotRange& box, int64_t n);

/// Pearson's chi-square on bins x bins cells of `box`; each bin's expected
/// count is its mass (midpoint rule on sub x sub points) times the sample
/// count.  Only bins expecting >= 5 are used.
struct ChiSquare {
  double statistic = 0;
  double dof = 0;
  /// Fraction of the samples that fell in the used bins.
  double coverage = 0;
  /// A threshold that a correct density exceeds with probability ~1e-4.
  double threshold() const;
};
ChiSquare chi_square(const LogDensity& log_prob, const torch::Tensor& samples,
                     const data::PlotRange& box, int64_t bins = 20, int64_t sub = 10);

}  // namespace diffeo::testing
