#include "diffeo/flows/flow.h"

#include <ATen/ExpandUtils.h>

#include <cmath>
#include <limits>
#include <mutex>
#include <tuple>
#include <utility>

#include "diffeo/bijectors/affine.h"
#include "diffeo/bijectors/block.h"
#include "diffeo/bijectors/chain.h"
#include "diffeo/bijectors/elementwise.h"
#include "diffeo/core/checks.h"
#include "diffeo/core/global_seed.h"
#include "diffeo/distributions/normal.h"
#include "diffeo/flows/bernstein_flow.h"
#include "diffeo/flows/glow.h"
#include "diffeo/flows/hint.h"
#include "diffeo/flows/maf.h"
#include "diffeo/flows/nsf.h"
#include "diffeo/flows/realnvp.h"

namespace diffeo::flows {

namespace {

// The mean and scale of a spec's "standardize_context" for `features` context
// features: finite means, positive finite scales.
std::pair<std::vector<double>, std::vector<double>> context_standardization(const json& entry,
                                                                            int64_t features) {
  SpecReader s(entry, "flow spec 'standardize_context'");
  auto mean = s.require<std::vector<double>>("mean");
  auto scale = s.require<std::vector<double>>("scale");
  s.finish();
  if (features == 0)
    throw Error("flow spec: 'standardize_context' needs a conditional flow (context_features > 0)");
  if (static_cast<int64_t>(mean.size()) != features ||
      static_cast<int64_t>(scale.size()) != features)
    throw Error("flow spec: 'standardize_context' needs " + std::to_string(features) +
                " means and scales (one per context feature), got " +
                std::to_string(mean.size()) + " and " + std::to_string(scale.size()));
  for (double v : mean)
    if (!std::isfinite(v))
      throw Error("flow spec: every 'standardize_context' mean must be finite, got " +
                  number_string(v));
  for (double v : scale)
    if (!(v > 0) || !std::isfinite(v))
      throw Error("flow spec: every 'standardize_context' scale must be positive, got " +
                  number_string(v));
  return {std::move(mean), std::move(scale)};
}

}  // namespace

FlowImpl::FlowImpl(Distribution base, Bijector bijector, json spec)
    : TransformedImpl(std::move(base), std::move(bijector)), spec_(std::move(spec)) {
  // A conditional flow refuses a call without its context by name ("Flow:
  // argument 'context' ..."), before any conditioner sees it.
  if (spec_.is_object() && spec_.contains("options"))
    set_context_features(flow_options().context_features());
  if (spec_.is_object() && spec_.contains("standardize_context"))
    std::tie(context_mean_, context_scale_) = context_standardization(
        spec_.at("standardize_context"), flow_options().context_features());
}

torch::Tensor FlowImpl::conditioner_context(const torch::Tensor& context) const {
  if (!context.defined() || context_mean_.empty()) return context;
  return (context - torch::tensor(context_mean_, context.options())) /
         torch::tensor(context_scale_, context.options());
}

torch::Tensor FlowImpl::sample_impl(torch::IntArrayRef sample_shape, const torch::Tensor& context,
                                    c10::optional<at::Generator> generator) {
  return TransformedImpl::sample_impl(sample_shape, conditioner_context(context), generator);
}

SampleAndLogProb FlowImpl::sample_and_log_prob_impl(torch::IntArrayRef sample_shape,
                                                    const torch::Tensor& context,
                                                    c10::optional<at::Generator> generator) {
  return TransformedImpl::sample_and_log_prob_impl(sample_shape, conditioner_context(context),
                                                   generator);
}

torch::Tensor FlowImpl::log_prob_impl(const torch::Tensor& y, const torch::Tensor& raw_context) {
  const auto context = conditioner_context(raw_context);
  // The context per row of y, when it broadcasts to one (else the plain path
  // reports the mismatch).
  auto batch = y.sizes().slice(0, y.dim() - 1).vec();
  torch::Tensor rows_context;
  if (context.defined()) {
    auto shape = batch;
    shape.push_back(context.size(-1));
    if (!at::is_expandable_to(context.sizes(), shape))
      return TransformedImpl::log_prob_impl(y, context);
    rows_context = context.expand(shape);
  }
  if (all_finite(y) && (!rows_context.defined() || all_finite(rows_context)))
    return TransformedImpl::log_prob_impl(y, context);
  auto finite = torch::isfinite(y).all(-1);
  if (rows_context.defined()) finite = finite & torch::isfinite(rows_context).all(-1);

  // Rows with a NaN (or a non-finite context) are NaN, rows with +-inf -inf;
  // only the finite rows go through the flow.
  auto nan_rows = torch::isnan(y).any(-1);
  if (rows_context.defined()) nan_rows = nan_rows | ~torch::isfinite(rows_context).all(-1);
  auto result = torch::full(batch, -std::numeric_limits<double>::infinity(), y.options())
                    .masked_fill(nan_rows, std::numeric_limits<double>::quiet_NaN())
                    .reshape({-1});
  auto index = finite.reshape({-1}).nonzero().squeeze(1);
  if (index.numel() > 0) {
    auto rows = y.reshape({-1, y.size(-1)}).index_select(0, index);
    auto rows_ctx = rows_context.defined()
                        ? rows_context.reshape({-1, rows_context.size(-1)}).index_select(0, index)
                        : torch::Tensor();
    result = result.index_copy(0, index, TransformedImpl::log_prob_impl(rows, rows_ctx));
  }
  return result.reshape(batch);
}

namespace {

struct Entry {
  std::string name, description;
  BijectorBuilder builder;
  double learning_rate = kDefaultLearningRate;
};

struct Registry {
  std::mutex mutex;
  std::vector<Entry> entries{
      {"maf", "masked autoregressive flow: MADE + affine (or spline) per layer", maf_bijector},
      {"realnvp", "Real NVP: affine coupling layers on alternating halves", realnvp_bijector},
      {"nsf", "neural spline flow: rational-quadratic spline couplings (or autoregressive)",
       nsf_bijector},
      {"glow", "Glow: ActNorm, learned invertible linear map and affine coupling per step",
       glow_bijector},
      {"hint",
       "HINT: Householder mixing and recursive hierarchical affine couplings "
       "(lower-triangular Jacobian)",
       hint_bijector},
      {"bernstein",
       "Bernstein flow: an increasing Bernstein polynomial per coordinate "
       "between two affine maps (independent coordinates)",
       bernstein_flow_bijector,
       // docs/results.md: at 1e-3 5000 steps leave the coefficients 0.1 nats
       // short of the bimodal fit 0.02 reaches.
       0.02},
  };
};

Registry& registry() {
  static Registry instance;
  return instance;
}

Entry find(const std::string& name) {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::string names;
  for (const auto& entry : r.entries) {
    if (entry.name == name) return entry;
    names += (names.empty() ? "" : ", ") + entry.name;
  }
  throw Error("unknown flow '" + name + "'; known flows: " + names);
}

// A fixed elementwise affine map from standardised to data units.
Bijector standardization(const std::vector<double>& mean, const std::vector<double>& scale,
                         int64_t dim) {
  if (static_cast<int64_t>(mean.size()) != dim || static_cast<int64_t>(scale.size()) != dim)
    throw Error("flow spec: 'standardize' needs " + std::to_string(dim) +
                " means and scales, got " + std::to_string(mean.size()) + " and " +
                std::to_string(scale.size()));
  auto loc = torch::tensor(mean, torch::kFloat64).to(torch::get_default_dtype());
  auto log_scale = torch::log(torch::tensor(scale, torch::kFloat64)).to(loc.dtype());
  return Block(ScalarAffine(loc, log_scale, /*learnable=*/false), 1);
}

// Unit-cube data v in (0, 1) from the logit space the inner flow models:
// v = (sigmoid(y) - lambda) / (1 - 2 lambda), the inverse of the MAF paper's
// y = logit(lambda + (1 - 2 lambda) v).
Bijector unit_from_logit(double lambda) {
  const double width = 1 - 2 * lambda;
  auto to_unit = ScalarAffine(-lambda / width, -std::log(width), /*learnable=*/false);
  return Block(Chain({to_unit, Sigmoid()}), 1);
}

}  // namespace

void register_flow(const std::string& name, const std::string& description,
                   BijectorBuilder builder, double learning_rate) {
  if (!(learning_rate > 0) || !std::isfinite(learning_rate))
    throw Error("register_flow: argument 'learning_rate' must be positive and finite, got " +
                number_string(learning_rate));
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (auto& entry : r.entries)
    if (entry.name == name) throw Error("register_flow: a flow named '" + name + "' exists");
  r.entries.push_back({name, description, std::move(builder), learning_rate});
}

std::vector<std::string> flow_names() {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::vector<std::string> names;
  for (const auto& entry : r.entries) names.push_back(entry.name);
  return names;
}

std::string flow_description(const std::string& name) { return find(name).description; }

double default_learning_rate(const std::string& name) { return find(name).learning_rate; }

Flow build(const json& spec) {
  SpecReader reader(spec, "flow spec");
  const auto name = reader.require<std::string>("flow");
  const auto options = options_from_json(reader.require<json>("options"));
  const auto standardize = reader.get<json>("standardize", json());
  const auto logit = reader.get<json>("logit", json());
  const auto data = reader.get<json>("data", json());
  const auto standardize_context = reader.get<json>("standardize_context", json());
  reader.finish();
  if (!standardize.is_null() && !logit.is_null())
    throw Error("flow spec: give 'standardize' or 'logit', not both");

  // The spec alone fixes the initial weights: conditioners draw from the
  // global generator, seeded here from options.seed and then restored.
  Bijector bijector = nullptr;
  {
    GlobalSeed seeded(options.seed());
    bijector = find(name).builder(options);
  }
  json full{{"flow", name}, {"options", to_json(options)}};
  if (!logit.is_null()) {
    SpecReader l(logit, "flow spec 'logit'");
    const auto lambda = l.require<double>("lambda");
    l.finish();
    if (!(lambda >= 0 && lambda < 0.5))
      throw Error("flow spec: 'logit' lambda must be in [0, 0.5), got " + number_string(lambda));
    bijector = Chain({unit_from_logit(lambda), bijector});
    full["logit"] = {{"lambda", lambda}};
  }
  if (!data.is_null()) {
    if (!data.is_object()) throw Error("flow spec: 'data' must be an object");
    full["data"] = data;
  }
  if (!standardize_context.is_null()) full["standardize_context"] = standardize_context;
  Flow flow(StandardNormal(options.dim()), bijector, full);
  if (standardize.is_null()) return flow;
  SpecReader s(standardize, "flow spec 'standardize'");
  const auto mean = s.require<std::vector<double>>("mean");
  const auto scale = s.require<std::vector<double>>("scale");
  s.finish();
  return standardized(flow, mean, scale);
}

Flow standardized(const Flow& flow, const std::vector<double>& mean,
                  const std::vector<double>& scale) {
  auto spec = flow->spec();
  if (spec.contains("standardize") || spec.contains("logit"))
    throw Error(std::string("flow spec: the flow already has '") +
                (spec.contains("logit") ? "logit" : "standardize") +
                "'; it cannot be standardised again");
  for (double v : scale)
    if (!(v > 0) || !std::isfinite(v))
      throw Error("flow spec: every 'standardize' scale must be positive, got " + number_string(v));
  auto to_data = standardization(mean, scale, flow->event_shape().at(0));
  to_data->to(flow->options().dtype().toScalarType());
  spec["standardize"] = {{"mean", mean}, {"scale", scale}};
  Flow result(flow->base(), Chain({to_data, flow->bijector()}), spec);
  result->train(flow->is_training());
  return result;
}

Flow context_standardized(const Flow& flow, const std::vector<double>& mean,
                          const std::vector<double>& scale) {
  auto spec = flow->spec();
  if (spec.contains("standardize_context"))
    throw Error("flow spec: the flow already standardises its context");
  spec["standardize_context"] = {{"mean", mean}, {"scale", scale}};
  Flow result(flow->base(), flow->bijector(), spec);  // the constructor checks the entry
  result->train(flow->is_training());
  return result;
}

Flow build(const std::string& name, const FlowOptions& options, const std::vector<double>& mean,
           const std::vector<double>& scale) {
  json spec{{"flow", name}, {"options", to_json(options)}};
  if (!mean.empty() || !scale.empty()) spec["standardize"] = {{"mean", mean}, {"scale", scale}};
  return build(spec);
}

}  // namespace diffeo::flows
