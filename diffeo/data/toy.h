#pragma once
// Toy 2-D densities that the flow zoo trains on and is judged against: the
// reference project's seven (six densities and the half_circle target), the common FFJORD benchmark
// samplers and the Rezende & Mohamed (2015) energy potentials.

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace diffeo::data {

/// The axis-aligned box a heatmap of a toy density shows: x_min <= x1 <= x_max,
/// y_min <= x2 <= y_max.  It frames the bulk of the mass (or of exp(-U) for an
/// energy target); it is not the density's support.
struct PlotRange {
  double x_min, x_max, y_min, y_max;
};

/// One named toy density on R^2.  `sample(n, generator)` returns n independent
/// draws as an [n, 2] float32 CPU tensor, reproducible for a seeded generator (an
/// undefined generator uses LibTorch's global one); it throws diffeo::Error for
/// n <= 0, and is empty for pure energy targets.  `log_prob(x)` is the exact
/// normalised log density, [..., 2] -> [...], computed in x's dtype and device;
/// it is empty when no closed form exists.  `unnormalized_log_prob(x)` is the
/// target of a reverse-KL fit: the same function as log_prob for normalised
/// densities, -U(x) for energy targets, empty for samplers without a closed
/// form.  Both density functions give -inf outside the support and for
/// infinite coordinates, NaN only for NaN input, and throw diffeo::Error for a
/// non-floating tensor or a last dimension other than 2.  Test for presence
/// with `if (density.log_prob)`.
struct ToyDensity {
  std::string name, description;
  std::function<torch::Tensor(int64_t n, at::Generator generator)> sample;
  std::function<torch::Tensor(const torch::Tensor& x)> log_prob;
  std::function<torch::Tensor(const torch::Tensor& x)> unnormalized_log_prob;
  PlotRange range;
};

/// Every toy density, in this fixed order: the reference seven (banana,
/// gaussian_blobs, energy1, energy2, energy3, energy4, half_circle), the
/// benchmark samplers (two_moons, circles, 8gaussians, checkerboard, pinwheel,
/// 2spirals, swissroll, rings), the energy targets (u1, u2, u3, u4).
const std::vector<ToyDensity>& toy_densities();

/// The names of toy_densities(), in the same order.
std::vector<std::string> toy_names();

/// The toy density called `name`; throws diffeo::Error listing every valid
/// name when there is none.
const ToyDensity& toy(const std::string& name);

/// n draws from toy(name) with a CPU generator seeded by `seed`; throws
/// diffeo::Error for an unknown name, for n <= 0 and for a density without a
/// sampler.
torch::Tensor sample(const std::string& name, int64_t n, uint64_t seed);

}  // namespace diffeo::data
