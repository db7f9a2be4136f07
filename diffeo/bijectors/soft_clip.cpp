#include "diffeo/bijectors/soft_clip.h"

#include <cmath>

#include "diffeo/bijectors/domain_guard.h"
#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"

namespace diffeo {

static double checked_width(double low, double high) {
  if (!std::isfinite(low) || !std::isfinite(high) || !(high > low))
    throw Error("SoftClip: arguments 'low' and 'high' must be finite with low < high, got low " +
                number_string(low) + " and high " + number_string(high));
  return high - low;
}

SoftClipImpl::SoftClipImpl(double low, double high, double hinge_softness, bool learnable)
    : BijectorImpl(0),
      low_(register_value(*this, "low", torch::scalar_tensor(low), learnable)),
      width_(*this, "SoftClip", "width", torch::scalar_tensor(checked_width(low, high)), learnable),
      hinge_softness_(*this, "SoftClip", "hinge_softness", torch::scalar_tensor(hinge_softness),
                      learnable) {}

// s(t) = c softplus(t / c), the softplus of hinge softness c.
static torch::Tensor soft(const torch::Tensor& t, const torch::Tensor& c) {
  return c * torch::softplus(t / c);
}

// dy/dx = w / s(w) * sigmoid(v / c) * sigmoid(u / c); log sigmoid(t) = -softplus(-t).
torch::Tensor SoftClipImpl::log_det(const torch::Tensor& u, const torch::Tensor& v,
                                    const torch::Tensor& width, const torch::Tensor& c) const {
  auto log_shrink = torch::log(width) - torch::log(soft(width, c));
  return log_shrink - torch::softplus(-v / c) - torch::softplus(-u / c);
}

Result SoftClipImpl::forward_impl(const torch::Tensor& x, const torch::Tensor&) {
  auto c = hinge_softness(), width = width_.value();
  auto u = x - low_;
  auto v = width - soft(u, c);
  auto y = low_ + width - width / soft(width, c) * soft(v, c);
  return {y, log_det(u, v, width, c)};
}

Result SoftClipImpl::inverse_impl(const torch::Tensor& y, const torch::Tensor&) {
  auto c = hinge_softness(), width = width_.value();
  auto high = low_ + width;
  DomainGuard guard(y, (y <= low_) | (y >= high), low_ + 0.5 * width);
  auto v = c * inverse_softplus((high - guard.value()) * soft(width, c) / (width * c));
  auto u = c * inverse_softplus((width - v) / c);
  return {low_ + u, guard.log_det(-log_det(u, v, width, c))};
}

}  // namespace diffeo
