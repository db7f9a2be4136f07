#include "diffeo/train/toy_fit.h"

#include <utility>

#include "diffeo/core/error.h"

namespace diffeo::train {

static void require_sampler(const data::ToyDensity& density, const std::string& where) {
  if (!density.sample)
    throw Error(where + ": density '" + density.name +
                "' has no sampler (it is an energy target); fit it with fit_reverse_kl");
}

flows::Flow toy_flow(const std::string& flow_name, const data::ToyDensity& density,
                     flows::FlowOptions options, uint64_t seed) {
  require_sampler(density, "toy_flow");
  return flows::build(flow_name, options.dim(2), toy_standardization(density, seed));
}

flows::Standardization toy_standardization(const data::ToyDensity& density, uint64_t seed) {
  require_sampler(density, "toy_standardization");
  const auto pilot = density.sample(10000, at::make_generator<at::CPUGeneratorImpl>(seed + 2));
  return flows::standardization_of(pilot, "the pilot sample of '" + density.name + "'");
}

BatchSampler toy_sampler(const data::ToyDensity& density) {
  require_sampler(density, "toy_sampler");
  const auto dtype = c10::typeMetaToScalarType(torch::get_default_dtype());
  return [&density, dtype](int64_t n, at::Generator& generator) {
    return std::make_pair(density.sample(n, generator).to(dtype), torch::Tensor());
  };
}

ToyFit fit_toy(const std::string& flow_name, const data::ToyDensity& density,
               flows::FlowOptions options, const FitOptions& fit_options) {
  auto flow = toy_flow(flow_name, density, std::move(options), fit_options.seed());
  auto report = fit(flow, toy_sampler(density), fit_options);
  return {flow, std::move(report)};
}

}  // namespace diffeo::train
