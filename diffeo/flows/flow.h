#pragma once
// A flow built from a spec: the type every builder returns and io saves.

#include <functional>
#include <string>
#include <vector>

#include "diffeo/core/spec.h"
#include "diffeo/distributions/transformed.h"
#include "diffeo/flows/flow_options.h"

namespace diffeo::flows {

/// A Transformed distribution (StandardNormal(dim) pushed through a
/// bijector) that remembers the spec it was built from, so io::save can write
/// it and io::load rebuild it without knowing its type.  The spec is
///   {"flow": NAME, "options": to_json(FlowOptions),
///    "standardize": {"mean": [...], "scale": [...]}}   (the last optional)
/// where `standardize` makes the flow model data in original units whose
/// standardised version (x - mean) / scale the inner flow fits; log_prob then
/// includes the Jacobian of the standardisation.  Instead of "standardize" a
/// spec may hold "logit": {"lambda": l} for data in the unit cube (dequantised
/// images): the inner flow then models y = logit(l + (1 - 2 l) v) (the MAF
/// paper's preprocessing), samples come out in (0, 1) and log_prob is the
/// density of v itself, the preprocessing's Jacobian included.  An optional
/// "data" object records what the flow was trained on (e.g. the data set and
/// its downsampling); build keeps it verbatim and ignores it.
class FlowImpl : public TransformedImpl {
 public:
  FlowImpl(Distribution base, Bijector bijector, json spec);

  const json& spec() const { return spec_; }
  /// The options the flow was built with.
  FlowOptions flow_options() const { return options_from_json(spec_.at("options")); }

 private:
  json spec_;
};
TORCH_MODULE(Flow);

/// Builds a flow's bijector (data <- base) from options.
using BijectorBuilder = std::function<Bijector(const FlowOptions&)>;

/// Registers a builder under `name` (done for the built-in flows).
void register_flow(const std::string& name, const std::string& description,
                   BijectorBuilder builder);
/// Names of every registered flow, in registration order.
std::vector<std::string> flow_names();
/// One-line description of a registered flow.
std::string flow_description(const std::string& name);

/// Builds the flow a spec describes (see FlowImpl); diffeo::Error for an
/// unknown flow name (listing the known ones) or bad options.
Flow build(const json& spec);
/// Builds flow `name` with `options`, optionally standardising data with the
/// given per-feature mean and scale (both of size dim).
Flow build(const std::string& name, const FlowOptions& options,
           const std::vector<double>& mean = {}, const std::vector<double>& scale = {});

}  // namespace diffeo::flows
