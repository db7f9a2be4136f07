#include "diffeo/bijectors/reshaped.h"

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"

namespace diffeo {

ReshapedImpl::ReshapedImpl(Bijector bijector, std::vector<int64_t> shape)
    : BijectorImpl(/*event_rank=*/1), shape_(std::move(shape)) {
  if (bijector.is_empty()) throw Error("Reshaped: bijector is empty (nullptr)");
  if (shape_.empty()) throw Error("Reshaped: argument 'shape' must have at least one dimension");
  int64_t size = 1;
  for (auto n : shape_) {
    check_positive(n, "shape", "Reshaped");
    size *= n;
  }
  if (bijector->event_rank() != static_cast<int64_t>(shape_.size()))
    throw Error("Reshaped: argument 'shape' " + shape_string(shape_) + " has rank " +
                std::to_string(shape_.size()) + " but the bijector has event rank " +
                std::to_string(bijector->event_rank()));
  bijector_ = register_module("bijector", bijector);
  set_event_shape({size});
}

Result ReshapedImpl::run(const torch::Tensor& input, const torch::Tensor& context, bool forward) {
  auto shape = input.sizes().slice(0, input.dim() - 1).vec();
  shape.insert(shape.end(), shape_.begin(), shape_.end());
  auto events = input.reshape(shape);
  auto r = forward ? bijector_->forward_and_log_det(events, context)
                   : bijector_->inverse_and_log_det(events, context);
  if (r.output.sizes() != events.sizes())
    throw Error("Reshaped: the bijector changed the shape " + shape_string(events.sizes()) +
                " to " + shape_string(r.output.sizes()) + "; it must keep it");
  return {r.output.reshape(input.sizes()), r.log_det};
}

Result ReshapedImpl::forward_impl(const torch::Tensor& x, const torch::Tensor& context) {
  return run(x, context, /*forward=*/true);
}

Result ReshapedImpl::inverse_impl(const torch::Tensor& y, const torch::Tensor& context) {
  return run(y, context, /*forward=*/false);
}

}  // namespace diffeo
