#include "diffeo/bijectors/hierarchical_coupling.h"

#include <algorithm>
#include <cmath>

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"
#include "diffeo/core/tensor_ops.h"

namespace diffeo {

namespace {

// The HINT code's soft clamp s = c * 0.636 * atan(r): slope 0.636 c at 0 and
// |s| < 0.999 c however large r grows.
constexpr double kAtanScale = 0.636;

constexpr const char* kWhere = "HierarchicalCoupling";

void check_options(const HierarchicalCouplingOptions& options) {
  check_positive(options.dim(), "dim", kWhere);
  check_positive(options.min_split(), "min_split", kWhere);
  check_positive(options.min_hidden(), "min_hidden", kWhere);
  for (auto width : options.hidden()) check_positive(width, "hidden", kWhere);
  if (options.context_features() < 0)
    throw Error(std::string(kWhere) + ": argument 'context_features' must be >= 0, got " +
                std::to_string(options.context_features()));
  const double c = options.log_scale_bound();
  if (!(c > 0) || !std::isfinite(c))
    throw Error(std::string(kWhere) +
                ": argument 'log_scale_bound' must be positive and finite, got " +
                number_string(c));
  nn::check_activation(options.activation(), kWhere);
}

// The options of a half of size `dim`: conditioner widths halved (a width
// already below min_hidden stays as it is).
HierarchicalCouplingOptions half(const HierarchicalCouplingOptions& options, int64_t dim) {
  std::vector<int64_t> hidden;
  for (auto width : options.hidden())
    hidden.push_back(std::max(width / 2, std::min(width, options.min_hidden())));
  return HierarchicalCouplingOptions(options).dim(dim).hidden(hidden);
}

}  // namespace

HierarchicalCouplingImpl::HierarchicalCouplingImpl(HierarchicalCouplingOptions options)
    : BijectorImpl(/*event_rank=*/1), options_(std::move(options)) {
  check_options(options_);
  const int64_t d = options_.dim();
  split_ = d / 2;
  if (d >= 2 * options_.min_split()) {
    upper_ = register_module("upper",
                             std::make_shared<HierarchicalCouplingImpl>(half(options_, split_)));
    lower_ = register_module(
        "lower", std::make_shared<HierarchicalCouplingImpl>(half(options_, d - split_)));
  }
  const int64_t inputs = split_ + options_.context_features();
  if (inputs > 0) {
    conditioner_ =
        register_module("conditioner", nn::MLP(nn::MLPOptions(inputs, 2 * (d - split_))
                                                   .hidden(options_.hidden())
                                                   .activation(options_.activation())
                                                   .zero_last_layer(options_.identity_init())));
  } else {
    // An unconditional 1-D leaf: an elementwise affine map with learned (t, r).
    auto initial = options_.identity_init() ? torch::zeros({2}) : 0.5 * torch::randn({2});
    shift_log_scale_ = register_parameter("shift_log_scale", initial);
  }
  set_event_shape({d});
}

int64_t HierarchicalCouplingImpl::depth() const {
  return leaf() ? 1 : 1 + std::max(upper_->depth(), lower_->depth());
}

std::pair<torch::Tensor, torch::Tensor> HierarchicalCouplingImpl::coupling(
    const torch::Tensor& upper, const torch::Tensor& context) {
  auto shape = upper.sizes().vec();
  shape.back() = options_.dim() - split_;
  shape.push_back(2);
  torch::Tensor raw;
  if (conditioner_) {
    auto input = upper;
    if (options_.context_features() > 0)
      input = torch::cat(
          {upper, expand_context_to(context, upper, 1, options_.context_features(), kWhere)}, -1);
    raw = conditioner_->forward(input).reshape(shape);
  } else {
    raw = shift_log_scale_.expand(shape);
  }
  const double c = options_.log_scale_bound();
  return {raw.select(-1, 0), (c * kAtanScale) * torch::atan(raw.select(-1, 1))};
}

// Sampling direction: undo this level's coupling, then run the halves.
Result HierarchicalCouplingImpl::forward_impl(const torch::Tensor& x,
                                              const torch::Tensor& context) {
  auto upper = x.narrow(-1, 0, split_);
  auto [shift, log_scale] = coupling(upper, context);
  auto lower = (x.narrow(-1, split_, options_.dim() - split_) - shift) * torch::exp(-log_scale);
  auto log_det = -log_scale.sum(-1);
  if (!leaf()) {
    auto a = upper_->forward_impl(upper, context);
    auto b = lower_->forward_impl(lower, context);
    upper = a.output;
    lower = b.output;
    log_det = log_det + a.log_det + b.log_det;
  }
  return {torch::cat({upper, lower}, -1), log_det};
}

// Density direction (HINT's): run the halves, then couple the lower half to
// the transformed upper half.
Result HierarchicalCouplingImpl::inverse_impl(const torch::Tensor& y,
                                              const torch::Tensor& context) {
  auto upper = y.narrow(-1, 0, split_);
  auto lower = y.narrow(-1, split_, options_.dim() - split_);
  torch::Tensor halves_log_det;
  if (!leaf()) {
    auto a = upper_->inverse_impl(upper, context);
    auto b = lower_->inverse_impl(lower, context);
    upper = a.output;
    lower = b.output;
    halves_log_det = a.log_det + b.log_det;
  }
  auto [shift, log_scale] = coupling(upper, context);
  auto log_det = log_scale.sum(-1);
  if (halves_log_det.defined()) log_det = log_det + halves_log_det;
  return {torch::cat({upper, lower * torch::exp(log_scale) + shift}, -1), log_det};
}

}  // namespace diffeo
