#include "diffeo/train/toy_fit.h"

#include <utility>

#include "diffeo/core/error.h"
#include "diffeo/flows/standardization.h"

namespace diffeo::train {

ToyFit fit_toy(const std::string& flow_name, const data::ToyDensity& density,
               flows::FlowOptions options, const FitOptions& fit_options) {
  if (!density.sample)
    throw Error("fit_toy: density '" + density.name +
                "' has no sampler (it is an energy target); fit it with fit_reverse_kl");
  // A pilot draw apart from the batches (seed) and fit's validation (seed + 1)
  // sets the standardisation, so wide densities start well scaled.
  const auto pilot =
      density.sample(10000, at::make_generator<at::CPUGeneratorImpl>(fit_options.seed() + 2));
  auto flow =
      flows::build(flow_name, options.dim(2),
                   flows::standardization_of(pilot, "the pilot sample of '" + density.name + "'"));
  const auto dtype = c10::typeMetaToScalarType(torch::get_default_dtype());
  auto report = fit(
      flow,
      [&](int64_t n, at::Generator& generator) {
        return std::make_pair(density.sample(n, generator).to(dtype), torch::Tensor());
      },
      fit_options);
  return {flow, std::move(report)};
}

}  // namespace diffeo::train
