#include "diffeo/bijectors/elementwise.h"

#include <cmath>

#include "diffeo/bijectors/domain_guard.h"

namespace diffeo {

ExpImpl::ExpImpl() : BijectorImpl(0) {}

Result ExpImpl::forward_impl(const torch::Tensor& x, const torch::Tensor&) {
  return {torch::exp(x), x};
}

Result ExpImpl::inverse_impl(const torch::Tensor& y, const torch::Tensor&) {
  DomainGuard guard(y, y <= 0, 1.0);
  auto x = torch::log(guard.value());
  return {x, guard.log_det(-x)};
}

SigmoidImpl::SigmoidImpl() : BijectorImpl(0) {}

Result SigmoidImpl::forward_impl(const torch::Tensor& x, const torch::Tensor&) {
  return {torch::sigmoid(x), -torch::softplus(-x) - torch::softplus(x)};
}

Result SigmoidImpl::inverse_impl(const torch::Tensor& y, const torch::Tensor&) {
  DomainGuard guard(y, (y <= 0) | (y >= 1), 0.5);
  auto log_y = torch::log(guard.value()), log_1my = torch::log1p(-guard.value());
  return {log_y - log_1my, guard.log_det(-log_y - log_1my)};
}

TanhImpl::TanhImpl() : BijectorImpl(0) {}

Result TanhImpl::forward_impl(const torch::Tensor& x, const torch::Tensor&) {
  return {torch::tanh(x), 2.0 * (std::log(2.0) - x - torch::softplus(-2.0 * x))};
}

Result TanhImpl::inverse_impl(const torch::Tensor& y, const torch::Tensor&) {
  DomainGuard guard(y, y.abs() >= 1, 0.0);
  const auto& safe = guard.value();
  return {torch::atanh(safe), guard.log_det(-torch::log1p(-safe * safe))};
}

SoftplusImpl::SoftplusImpl(double hinge_softness, bool learnable)
    : BijectorImpl(0),
      hinge_softness_(*this, "Softplus", "hinge_softness", torch::scalar_tensor(hinge_softness),
                      learnable) {}

// dy/dx = sigmoid(x / c), so log-det = log sigmoid(x / c) = -torch::softplus(-x / c).
Result SoftplusImpl::forward_impl(const torch::Tensor& x, const torch::Tensor&) {
  auto c = hinge_softness();
  return {c * torch::softplus(x / c), -torch::softplus(-x / c)};
}

// In terms of y: sigmoid(x / c) = 1 - exp(-y / c).
Result SoftplusImpl::inverse_impl(const torch::Tensor& y, const torch::Tensor&) {
  auto c = hinge_softness();
  DomainGuard guard(y, y <= 0, 1.0);
  auto t = guard.value() / c;
  return {c * inverse_softplus(t), guard.log_det(-torch::log(-torch::expm1(-t)))};
}

}  // namespace diffeo
