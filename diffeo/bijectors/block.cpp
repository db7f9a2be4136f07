#include "diffeo/bijectors/block.h"

#include "diffeo/core/error.h"

namespace diffeo {

static int64_t lifted_rank(const Bijector& bijector, int64_t extra) {
  if (bijector.is_empty()) throw Error("Block: bijector is empty (nullptr)");
  if (extra < 0)
    throw Error("Block: argument 'extra_event_dims' must be >= 0, got " + std::to_string(extra));
  return bijector->event_rank() + extra;
}

BlockImpl::BlockImpl(Bijector bijector, int64_t extra_event_dims)
    : BijectorImpl(lifted_rank(bijector, extra_event_dims)),
      bijector_(register_module("bijector", bijector)),
      extra_event_dims_(extra_event_dims) {}

Result BlockImpl::forward_impl(const torch::Tensor& x, const torch::Tensor& context) {
  auto r = bijector_->forward_and_log_det(x, context);
  return {r.output, sum_rightmost(r.log_det, extra_event_dims_)};
}

Result BlockImpl::inverse_impl(const torch::Tensor& y, const torch::Tensor& context) {
  auto r = bijector_->inverse_and_log_det(y, context);
  return {r.output, sum_rightmost(r.log_det, extra_event_dims_)};
}

}  // namespace diffeo
