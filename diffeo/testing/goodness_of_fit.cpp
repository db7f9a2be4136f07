#include "diffeo/testing/goodness_of_fit.h"

#include <cmath>

namespace diffeo::testing {

std::pair<torch::Tensor, double> grid_midpoints(const data::PlotRange& box, int64_t n) {
  const double hx = (box.x_max - box.x_min) / n, hy = (box.y_max - box.y_min) / n;
  auto xs = torch::linspace(box.x_min + hx / 2, box.x_max - hx / 2, n, torch::kFloat64);
  auto ys = torch::linspace(box.y_min + hy / 2, box.y_max - hy / 2, n, torch::kFloat64);
  auto mesh = torch::meshgrid({xs, ys}, "ij");
  return {torch::stack({mesh[0].flatten(), mesh[1].flatten()}, 1), hx * hy};
}

double integrate(const LogDensity& log_prob, const data::PlotRange& box, int64_t n) {
  torch::NoGradGuard no_grad;
  auto [points, area] = grid_midpoints(box, n);
  return (log_prob(points).exp().sum() * area).item<double>();
}

double ChiSquare::threshold() const { return dof + 4 * std::sqrt(2 * dof); }

ChiSquare chi_square(const LogDensity& log_prob, const torch::Tensor& samples,
                     const data::PlotRange& box, int64_t bins, int64_t sub) {
  torch::NoGradGuard no_grad;
  const auto n = samples.size(0);
  auto [points, area] = grid_midpoints(box, bins * sub);
  auto expected = (log_prob(points).exp().reshape({bins, sub, bins, sub}).sum({1, 3}) * (area * n));

  auto x = samples.to(torch::kFloat64);
  auto ix = ((x.select(1, 0) - box.x_min) / ((box.x_max - box.x_min) / bins)).floor();
  auto iy = ((x.select(1, 1) - box.y_min) / ((box.y_max - box.y_min) / bins)).floor();
  auto in_box = (ix >= 0) & (ix < bins) & (iy >= 0) & (iy < bins);
  auto index = (ix * bins + iy).masked_select(in_box).to(torch::kLong);
  auto observed = torch::zeros({bins * bins}, torch::kFloat64)
                      .index_add_(0, index, torch::ones({index.size(0)}, torch::kFloat64))
                      .reshape({bins, bins});

  auto used = expected >= 5;
  ChiSquare result;
  result.dof = used.sum().item<double>() - 1;
  result.statistic =
      ((observed - expected).pow(2) / expected).masked_select(used).sum().item<double>();
  result.coverage = observed.masked_select(used).sum().item<double>() / n;
  return result;
}

}  // namespace diffeo::testing
