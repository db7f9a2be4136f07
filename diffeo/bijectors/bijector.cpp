#include "diffeo/bijectors/bijector.h"

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"

namespace diffeo {

BijectorImpl::BijectorImpl(int64_t event_rank) : event_rank_(event_rank) {
  if (event_rank < 0)
    throw Error("Bijector: event rank must be >= 0, got " + std::to_string(event_rank));
}

Result BijectorImpl::forward_and_log_det(const torch::Tensor& x, const torch::Tensor& context) {
  check_input(x, "x", context);
  return forward_impl(x, context);
}

Result BijectorImpl::inverse_and_log_det(const torch::Tensor& y, const torch::Tensor& context) {
  check_input(y, "y", context);
  return inverse_impl(y, context);
}

torch::Tensor BijectorImpl::forward(const torch::Tensor& x, const torch::Tensor& context) {
  return forward_and_log_det(x, context).output;
}

torch::Tensor BijectorImpl::inverse(const torch::Tensor& y, const torch::Tensor& context) {
  return inverse_and_log_det(y, context).output;
}

void BijectorImpl::set_event_shape(std::vector<int64_t> shape) {
  if (static_cast<int64_t>(shape.size()) != event_rank_)
    throw Error(type_name(*this) + ": event shape " + shape_string(shape) +
                " does not have the bijector's event rank " + std::to_string(event_rank_));
  event_shape_ = std::move(shape);
}

void BijectorImpl::set_parameter_shape(torch::IntArrayRef shape) { parameter_shape_ = shape.vec(); }

void BijectorImpl::check_input(const torch::Tensor& t, const std::string& arg,
                               const torch::Tensor& context) const {
  const std::string where = type_name(*this);
  check_event_shape(t, arg, event_rank_, event_shape_, where);
  if (!parameter_shape_.empty()) check_broadcasts_into(t, arg, parameter_shape_, where);
  check_matches_model(t, arg, *this, where);
  check_context_tensor(context, /*features=*/0, t.options(), "'" + arg + "'", where);
}

torch::Tensor zero_log_det(const torch::Tensor& x, int64_t event_rank) {
  return x.new_zeros(x.sizes().slice(0, x.dim() - event_rank));
}

}  // namespace diffeo
