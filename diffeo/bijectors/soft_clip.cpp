#include "diffeo/bijectors/soft_clip.h"

#include <cmath>

#include "diffeo/core/error.h"
#include "diffeo/core/positive.h"

namespace diffeo {

SoftClipImpl::SoftClipImpl(double low, double high, double hinge_softness, bool learnable)
    : BijectorImpl(0) {
  if (!std::isfinite(low) || !std::isfinite(high) || !(high > low))
    throw Error("SoftClip: arguments 'low' and 'high' must be finite with low < high, got low " +
                std::to_string(low) + " and high " + std::to_string(high));
  if (!(hinge_softness > 0) || !std::isfinite(hinge_softness))
    throw Error("SoftClip: argument 'hinge_softness' must be positive and finite, got " +
                std::to_string(hinge_softness));
  low_ = register_value(*this, "low", torch::scalar_tensor(low), learnable);
  unconstrained_width_ = register_value(*this, 
      "unconstrained_width", inverse_softplus(torch::scalar_tensor(high - low)), learnable);
  unconstrained_hinge_softness_ = register_value(*this, 
      "unconstrained_hinge_softness", inverse_softplus(torch::scalar_tensor(hinge_softness)),
      learnable);
}

torch::Tensor SoftClipImpl::high() const { return low_ + torch::softplus(unconstrained_width_); }

torch::Tensor SoftClipImpl::hinge_softness() const {
  return torch::softplus(unconstrained_hinge_softness_);
}

// dy/dx = w / s(w) * sigmoid(v / c) * sigmoid(u / c); log sigmoid(t) = -torch::softplus(-t).
torch::Tensor SoftClipImpl::log_det(const torch::Tensor& u, const torch::Tensor& v,
                                    const torch::Tensor& width, const torch::Tensor& c) const {
  auto log_shrink = torch::log(width) - torch::log(c * torch::softplus(width / c));
  return log_shrink - torch::softplus(-v / c) - torch::softplus(-u / c);
}

Result SoftClipImpl::forward_impl(const torch::Tensor& x, const torch::Tensor&) {
  auto c = hinge_softness(), width = torch::softplus(unconstrained_width_);
  auto u = x - low_;
  auto v = width - c * torch::softplus(u / c);
  auto shrink = width / (c * torch::softplus(width / c));
  auto y = low_ + width - shrink * c * torch::softplus(v / c);
  return {y, log_det(u, v, width, c)};
}

Result SoftClipImpl::inverse_impl(const torch::Tensor& y, const torch::Tensor&) {
  auto c = hinge_softness(), width = torch::softplus(unconstrained_width_);
  auto shrink = width / (c * torch::softplus(width / c));
  auto v = c * inverse_softplus((low_ + width - y) / (shrink * c));
  auto u = c * inverse_softplus((width - v) / c);
  return {low_ + u, -log_det(u, v, width, c)};
}

}  // namespace diffeo
