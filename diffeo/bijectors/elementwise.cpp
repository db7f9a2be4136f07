#include "diffeo/bijectors/elementwise.h"

#include <cmath>

#include "diffeo/core/error.h"
#include "diffeo/core/positive.h"

namespace diffeo {

ExpImpl::ExpImpl() : BijectorImpl(0) {}

Result ExpImpl::forward_impl(const torch::Tensor& x, const torch::Tensor&) {
  return {torch::exp(x), x};
}

Result ExpImpl::inverse_impl(const torch::Tensor& y, const torch::Tensor&) {
  auto x = torch::log(y);
  return {x, -x};
}

SigmoidImpl::SigmoidImpl() : BijectorImpl(0) {}

Result SigmoidImpl::forward_impl(const torch::Tensor& x, const torch::Tensor&) {
  return {torch::sigmoid(x), -torch::softplus(-x) - torch::softplus(x)};
}

Result SigmoidImpl::inverse_impl(const torch::Tensor& y, const torch::Tensor&) {
  auto log_y = torch::log(y), log_1my = torch::log1p(-y);
  return {log_y - log_1my, -log_y - log_1my};
}

TanhImpl::TanhImpl() : BijectorImpl(0) {}

Result TanhImpl::forward_impl(const torch::Tensor& x, const torch::Tensor&) {
  return {torch::tanh(x), 2.0 * (std::log(2.0) - x - torch::softplus(-2.0 * x))};
}

Result TanhImpl::inverse_impl(const torch::Tensor& y, const torch::Tensor&) {
  return {torch::atanh(y), -torch::log1p(-y * y)};
}

SoftplusImpl::SoftplusImpl(double hinge_softness, bool learnable) : BijectorImpl(0) {
  if (!(hinge_softness > 0) || !std::isfinite(hinge_softness))
    throw Error("Softplus: argument 'hinge_softness' must be positive and finite, got " +
                std::to_string(hinge_softness));
  unconstrained_hinge_softness_ = register_value(*this, 
      "unconstrained_hinge_softness", inverse_softplus(torch::scalar_tensor(hinge_softness)),
      learnable);
}

torch::Tensor SoftplusImpl::hinge_softness() const {
  return torch::softplus(unconstrained_hinge_softness_);
}

// dy/dx = sigmoid(x / c), so log-det = log sigmoid(x / c) = -torch::softplus(-x / c).
Result SoftplusImpl::forward_impl(const torch::Tensor& x, const torch::Tensor&) {
  auto c = hinge_softness();
  return {c * torch::softplus(x / c), -torch::softplus(-x / c)};
}

// In terms of y: sigmoid(x / c) = 1 - exp(-y / c).
Result SoftplusImpl::inverse_impl(const torch::Tensor& y, const torch::Tensor&) {
  auto c = hinge_softness();
  return {c * inverse_softplus(y / c), -torch::log(-torch::expm1(-y / c))};
}

}  // namespace diffeo
