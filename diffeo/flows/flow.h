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
/// its downsampling, or a table's target and context columns); build keeps it
/// verbatim and ignores it.  A conditional flow's spec may hold
/// "standardize_context": {"mean": [...], "scale": [...]} (one per context
/// feature): every method then takes the context in its original units and
/// hands the conditioners (context - mean) / scale.
///
/// Input validation (the public methods of DistributionImpl, tested for every
/// registered flow in entry_point_validation_test.cpp): bad input is refused
/// with a diffeo::Error starting "Flow: argument '...'" that says what was
/// expected and received.  Decided behaviours:
///  - dtype: data must have the flow's dtype (float32 as built); float64 data
///    is refused, not silently converted: call flow->to(torch::kFloat64) to
///    get a float64 flow (log_prob, samples and context all float64).
///  - empty batch: log_prob of [0, dim] returns [0] (Glow's ActNorm waits for
///    a non-empty batch to initialise); sample(n) and sample_and_log_prob(n)
///    need n >= 1 (n == 0 is refused, as every count in diffeo).
///  - batch rank: [a, b, dim] gives [a, b], as the flattened batch would; a
///    0-dim tensor or another event size is refused.
///  - context: a flow built with context_features(F) > 0 needs a floating
///    context [batch..., F] of its dtype whose batch shape broadcasts to the
///    data's (a single row [F] or [1, F] applies to every row); without one,
///    or with another width, it is refused.  An unconditional flow ignores a
///    context (its samples still get the context's batch shape).
///
/// Extreme and non-finite inputs (tested in extreme_inputs_test.cpp), for
/// every registered flow, float32 and float64, fused kernels on or off:
///  - a finite row y gives a finite log_prob with finite gradients, however
///    large (|y| = 1e6 included; splines are the identity beyond [-B, B],
///    affine log-scales are soft-clamped, Bernstein polynomials continue
///    linearly), except where the density is exactly zero, which gives
///    exactly -inf: off a "logit" flow's support (the unit cube widened by its
///    lambda margin).  In float32 the base's sum of squares overflows to +inf,
///    and log_prob to -inf, once the latent's norm exceeds ~1.8e19.
///  - a row holding a NaN, in y or in its context row, gives NaN (IEEE: NaN
///    in, NaN out);
///  - a row holding +-inf and no NaN gives -inf (zero density at infinity),
///    with a finite context (a non-finite context row gives NaN);
///  - such rows never reach the bijector: the other rows of the batch get the
///    log_prob they would get alone (Glow's ActNorm initialises from them
///    only), and the gradient of a sum over the finite entries is finite.
/// (Checking for them costs one reduction over y and one host sync.)
class FlowImpl : public TransformedImpl {
 public:
  FlowImpl(Distribution base, Bijector bijector, json spec);

  const json& spec() const { return spec_; }
  /// The options the flow was built with.
  FlowOptions flow_options() const { return options_from_json(spec_.at("options")); }

 protected:
  /// Transformed's log_prob on the finite rows; NaN or -inf on the others (see above).
  torch::Tensor log_prob_impl(const torch::Tensor& y, const torch::Tensor& context) override;
  torch::Tensor sample_impl(torch::IntArrayRef sample_shape, const torch::Tensor& context,
                            c10::optional<at::Generator> generator) override;
  SampleAndLogProb sample_and_log_prob_impl(torch::IntArrayRef sample_shape,
                                            const torch::Tensor& context,
                                            c10::optional<at::Generator> generator) override;

 private:
  /// The context the conditioners see: standardised by "standardize_context".
  torch::Tensor conditioner_context(const torch::Tensor& context) const;

  json spec_;
  std::vector<double> context_mean_, context_scale_;  // empty: none
};
TORCH_MODULE(Flow);

/// Builds a flow's bijector (data <- base) from options.
using BijectorBuilder = std::function<Bijector(const FlowOptions&)>;

/// Adam's initial learning rate for a flow unless the caller names one.
constexpr double kDefaultLearningRate = 1e-3;

/// Registers a builder under `name` (done for the built-in flows), with the
/// learning rate its training starts from by default.
void register_flow(const std::string& name, const std::string& description,
                   BijectorBuilder builder, double learning_rate = kDefaultLearningRate);
/// Names of every registered flow, in registration order.
std::vector<std::string> flow_names();
/// One-line description of a registered flow.
std::string flow_description(const std::string& name);
/// The learning rate that reaches a flow's documented results in the default
/// steps (kDefaultLearningRate; the Bernstein flow's polynomial coefficients
/// need 0.02): what `diffeo train` and Python's fit use without --lr / lr=.
double default_learning_rate(const std::string& name);

/// Builds the flow a spec describes (see FlowImpl); diffeo::Error for an
/// unknown flow name (listing the known ones) or bad options.
Flow build(const json& spec);
/// Builds flow `name` with `options`, optionally standardising data with the
/// given per-feature mean and scale (both of size dim).
Flow build(const std::string& name, const FlowOptions& options,
           const std::vector<double>& mean = {}, const std::vector<double>& scale = {});

/// `flow` standardising data by the per-feature mean and scale (both of size
/// dim, scales positive): the flow build() makes of flow's spec with
/// "standardize": {mean, scale} added, sharing flow's base and bijector, so
/// that its parameters are flow's own tensors (named "bijector.1.*" instead of
/// "bijector.*", as in any standardised flow), in flow's dtype and mode.  It
/// lets a flow built without data be standardised once the data are known
/// (the Python diffeo.fit on a toy density).  diffeo::Error when flow's spec
/// already has "standardize" or "logit", or for bad means and scales.
Flow standardized(const Flow& flow, const std::vector<double>& mean,
                  const std::vector<double>& scale);

/// `flow` (conditional) standardising its context by the per-feature mean and
/// scale (one per context feature, scales positive): the spec gains
/// "standardize_context"; the weights are shared.  diffeo::Error for an
/// unconditional flow, one already standardising its context, or bad sizes
/// or scales.
Flow context_standardized(const Flow& flow, const std::vector<double>& mean,
                          const std::vector<double>& scale);

}  // namespace diffeo::flows
