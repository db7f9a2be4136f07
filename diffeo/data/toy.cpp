#include "diffeo/data/toy.h"

#include <cmath>

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"
#include "diffeo/data/density_math.h"
#include "diffeo/data/toy_families.h"

namespace diffeo::data {
namespace {

using DensityFn = std::function<torch::Tensor(const torch::Tensor&)>;
using SampleFn = std::function<torch::Tensor(int64_t, at::Generator)>;

// Checks x and hands the density only finite coordinates, so that no formula
// (atan2, sin, inf - inf) turns an infinite point into NaN or a NaN gradient:
// infinite points get -inf, NaN points NaN.
DensityFn checked_density(const std::string& where, DensityFn f) {
  if (!f) return f;
  return [where, f = std::move(f)](const torch::Tensor& x) {
    check_event_shape(x, "x", 1, {2}, where);
    const auto finite = torch::isfinite(x);
    auto log_density =
        restrict_to(finite.all(-1), f(torch::where(finite, x, torch::zeros_like(x))));
    return torch::where(torch::isnan(x).any(-1), torch::full_like(log_density, NAN), log_density);
  };
}

SampleFn checked_sampler(const std::string& where, SampleFn f) {
  if (!f) return f;
  return [where, f = std::move(f)](int64_t n, at::Generator generator) {
    check_positive(n, "n", where);
    return f(n, std::move(generator));
  };
}

std::vector<ToyDensity> build_registry() {
  std::vector<ToyDensity> all;
  for (auto family : {reference_densities, benchmark_densities, energy_targets})
    for (auto& d : family()) {
      const std::string where = "toy '" + d.name + "'";
      d.sample = checked_sampler(where, std::move(d.sample));
      d.log_prob = checked_density(where, std::move(d.log_prob));
      d.unnormalized_log_prob = d.unnormalized_log_prob
                                    ? checked_density(where, std::move(d.unnormalized_log_prob))
                                    : d.log_prob;
      all.push_back(std::move(d));
    }
  return all;
}

}  // namespace

const std::vector<ToyDensity>& toy_densities() {
  static const std::vector<ToyDensity> registry = build_registry();
  return registry;
}

std::vector<std::string> toy_names() {
  std::vector<std::string> names;
  for (const auto& d : toy_densities()) names.push_back(d.name);
  return names;
}

const ToyDensity& toy(const std::string& name) {
  for (const auto& d : toy_densities())
    if (d.name == name) return d;
  std::string valid;
  for (const auto& n : toy_names()) valid += (valid.empty() ? "" : ", ") + n;
  throw Error("toy: argument 'name' must be one of " + valid + "; got '" + name + "'");
}

torch::Tensor sample(const std::string& name, int64_t n, uint64_t seed) {
  const auto& d = toy(name);
  if (!d.sample)
    throw Error("toy '" + name +
                "': has no sampler (it is an energy target); fit it by reverse KL with "
                "unnormalized_log_prob");
  return d.sample(n, at::make_generator<at::CPUGeneratorImpl>(seed));
}

}  // namespace diffeo::data
