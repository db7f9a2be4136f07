#include "diffeo/bijectors/conditional_elementwise.h"

#include "diffeo/bijectors/coupling.h"
#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"
#include "diffeo/core/tensor_ops.h"

namespace diffeo {

ConditionalElementwiseImpl::ConditionalElementwiseImpl(int64_t features, int64_t context_features,
                                                       torch::nn::AnyModule conditioner,
                                                       Transform transform)
    : BijectorImpl(1),
      features_(features),
      context_features_(context_features),
      conditioner_(std::move(conditioner)),
      transform_(std::move(transform)) {
  check_positive(features, "features", "ConditionalElementwise");
  check_positive(context_features, "context_features", "ConditionalElementwise");
  if (conditioner_.is_empty())
    throw Error("ConditionalElementwise: argument 'conditioner' is empty");
  if (!transform_) throw Error("ConditionalElementwise: argument 'transform' is null");
  register_module("conditioner", conditioner_.ptr());
  set_event_shape({features});
}

Result ConditionalElementwiseImpl::run(const torch::Tensor& input, const torch::Tensor& context,
                                       bool inverse) {
  auto covariates =
      expand_context_to(context, input, 1, context_features_, "ConditionalElementwise");
  auto params =
      conditioner_parameters(conditioner_, covariates, {}, features_,
                             transform_->parameters_per_feature(), "ConditionalElementwise");
  auto r = transform_->apply(input, params, inverse);
  return {r.output, r.log_det.sum(-1)};
}

Result ConditionalElementwiseImpl::forward_impl(const torch::Tensor& x,
                                                const torch::Tensor& context) {
  return run(x, context, /*inverse=*/false);
}

Result ConditionalElementwiseImpl::inverse_impl(const torch::Tensor& y,
                                                const torch::Tensor& context) {
  return run(y, context, /*inverse=*/true);
}

}  // namespace diffeo
