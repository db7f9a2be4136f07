#include "diffeo/distributions/transformed.h"

#include "diffeo/core/error.h"
#include "diffeo/core/tensor_ops.h"

namespace diffeo {

static std::vector<int64_t> transformed_event_shape(const Distribution& base,
                                                    const Bijector& bijector) {
  if (base.is_empty()) throw Error("Transformed: argument 'base' is empty (nullptr)");
  if (bijector.is_empty()) throw Error("Transformed: argument 'bijector' is empty (nullptr)");
  if (bijector->event_rank() > base->event_rank())
    throw Error("Transformed: the bijector's event rank " + std::to_string(bijector->event_rank()) +
                " exceeds the base's event rank " + std::to_string(base->event_rank()) +
                "; use a base with a larger event");
  return base->event_shape();
}

TransformedImpl::TransformedImpl(Distribution base, Bijector bijector)
    : DistributionImpl(transformed_event_shape(base, bijector)),
      base_(register_module("base", base)),
      bijector_(register_module("bijector", bijector)),
      extra_event_dims_(base->event_rank() - bijector->event_rank()) {}

torch::Tensor TransformedImpl::log_prob_impl(const torch::Tensor& y, const torch::Tensor& context) {
  auto x = bijector_->inverse_and_log_det(y, context);
  return base_->log_prob(x.output, context) + sum_rightmost(x.log_det, extra_event_dims_);
}

torch::Tensor TransformedImpl::sample_impl(torch::IntArrayRef sample_shape,
                                           const torch::Tensor& context,
                                           c10::optional<at::Generator> generator) {
  auto x = base_->sample(sample_shape[0], context, generator);
  return bijector_->forward(x, expand_context(context, sample_shape[0]));
}

SampleAndLogProb TransformedImpl::sample_and_log_prob_impl(torch::IntArrayRef sample_shape,
                                                           const torch::Tensor& context,
                                                           c10::optional<at::Generator> generator) {
  auto x = base_->sample_and_log_prob(sample_shape[0], context, generator);
  auto y = bijector_->forward_and_log_det(x.sample, expand_context(context, sample_shape[0]));
  return {y.output, x.log_prob - sum_rightmost(y.log_det, extra_event_dims_)};
}

}  // namespace diffeo
