#pragma once
// One call that fits a registered flow to a toy density's fresh samples.

#include <string>

#include "diffeo/data/toy.h"
#include "diffeo/flows/flow.h"
#include "diffeo/flows/flow_options.h"
#include "diffeo/flows/standardization.h"
#include "diffeo/train/fit.h"

namespace diffeo::train {

/// The flow `flow_name` built for `density` the way fit_toy builds it: dim
/// 2, standardised by toy_standardization(density, seed).  diffeo::Error for
/// a density without a sampler.
flows::Flow toy_flow(const std::string& flow_name, const data::ToyDensity& density,
                     flows::FlowOptions options, uint64_t seed);

/// The standardisation fit_toy gives its flow for a run seeded `seed`: the
/// mean and scale of a pilot sample of 10000 draws of `density` seeded
/// seed + 2 (apart from the batches, seed, and fit's validation, seed + 1), so
/// that wide densities start well scaled.  diffeo::Error for a density
/// without a sampler.
flows::Standardization toy_standardization(const data::ToyDensity& density, uint64_t seed);

/// Fresh batches of `density` (in the default dtype) for fit's sampler
/// overload.  The density must outlive the sampler.
BatchSampler toy_sampler(const data::ToyDensity& density);

/// A flow fitted by fit_toy and the report of its fit.
struct ToyFit {
  flows::Flow flow;
  FitReport report;
};

/// Builds flow `flow_name` with `options` (its dim set to 2) and fits it by
/// maximum likelihood to fresh batches of `density`, as `diffeo train
/// --density` does: the flow standardises data by the mean and scale of a
/// pilot sample of 10000 draws seeded fit_options.seed + 2 (fit's validation
/// draws use seed + 1), and fit's sampler overload draws each batch, converted
/// to the default dtype the flow is built in.  diffeo::Error for a density
/// without a sampler (an energy target: see fit_reverse_kl), an unknown flow,
/// bad options, a pilot sample that cannot be standardised, or a fit that
/// diverges.
ToyFit fit_toy(const std::string& flow_name, const data::ToyDensity& density,
               flows::FlowOptions options, const FitOptions& fit_options);

}  // namespace diffeo::train
