#include "diffeo/bijectors/affine.h"

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"

namespace diffeo {

ShiftImpl::ShiftImpl(torch::Tensor loc, bool learnable) : BijectorImpl(0) {
  check_finite(loc, "loc", "Shift");
  loc_ = register_value(*this, "loc", loc, learnable);
  set_parameter_shape(loc.sizes());
}

ShiftImpl::ShiftImpl(double loc, bool learnable)
    : ShiftImpl(torch::scalar_tensor(loc), learnable) {}

Result ShiftImpl::forward_impl(const torch::Tensor& x, const torch::Tensor&) {
  return {x + loc_, torch::zeros_like(x)};
}

Result ShiftImpl::inverse_impl(const torch::Tensor& y, const torch::Tensor&) {
  return {y - loc_, torch::zeros_like(y)};
}

ScaleImpl::ScaleImpl(torch::Tensor scale, bool learnable)
    : BijectorImpl(0), scale_(*this, "Scale", "scale", scale, learnable) {
  set_parameter_shape(scale.sizes());
}

ScaleImpl::ScaleImpl(double scale, bool learnable)
    : ScaleImpl(torch::scalar_tensor(scale), learnable) {}

Result ScaleImpl::forward_impl(const torch::Tensor& x, const torch::Tensor&) {
  auto s = scale();
  return {x * s, torch::log(s).expand(x.sizes())};
}

Result ScaleImpl::inverse_impl(const torch::Tensor& y, const torch::Tensor&) {
  auto s = scale();
  return {y / s, -torch::log(s).expand(y.sizes())};
}

ScalarAffineImpl::ScalarAffineImpl(torch::Tensor shift, torch::Tensor log_scale, bool learnable)
    : BijectorImpl(0) {
  check_finite(shift, "shift", "ScalarAffine");
  check_finite(log_scale, "log_scale", "ScalarAffine");
  shift_ = register_value(*this, "shift", shift, learnable);
  log_scale_ = register_value(*this, "log_scale", log_scale, learnable);
  if (!shift.sizes().equals(log_scale.sizes()) && shift.dim() > 0 && log_scale.dim() > 0)
    throw Error("ScalarAffine: arguments 'shift' " + shape_string(shift.sizes()) +
                " and 'log_scale' " + shape_string(log_scale.sizes()) +
                " must have the same shape, or one of them must be a scalar");
  set_parameter_shape(shift.dim() > 0 ? shift.sizes() : log_scale.sizes());
}

ScalarAffineImpl::ScalarAffineImpl(double shift, double log_scale, bool learnable)
    : ScalarAffineImpl(torch::scalar_tensor(shift), torch::scalar_tensor(log_scale), learnable) {}

Result ScalarAffineImpl::forward_impl(const torch::Tensor& x, const torch::Tensor&) {
  return {x * torch::exp(log_scale_) + shift_, log_scale_.expand(x.sizes())};
}

Result ScalarAffineImpl::inverse_impl(const torch::Tensor& y, const torch::Tensor&) {
  return {(y - shift_) * torch::exp(-log_scale_), (-log_scale_).expand(y.sizes())};
}

}  // namespace diffeo
