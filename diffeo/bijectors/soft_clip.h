#pragma once

#include "diffeo/bijectors/bijector.h"
#include "diffeo/core/positive.h"

namespace diffeo {

/// A smooth clip of the reals onto (low, high), as TFP's SoftClip:
///   y = high - w / s(w) * s(w - s(x - low)),  w = high - low,
/// with s(t) = c log(1 + exp(t / c)) the softplus of hinge softness c.  Far
/// inside the interval it is close to the identity; the smaller c, the sharper
/// the corners.  `low` and the positive width are stored so that a learnable
/// clip keeps high > low.  Elementwise (event rank 0).  The inverse is defined
/// on (low, high); outside it the log-det is -inf (see DomainGuard).
class SoftClipImpl : public BijectorImpl {
 public:
  SoftClipImpl(double low, double high, double hinge_softness = 1.0, bool learnable = false);

  torch::Tensor low() const { return low_; }
  torch::Tensor high() const { return low_ + width_.value(); }
  torch::Tensor hinge_softness() const { return hinge_softness_.value(); }

 protected:
  Result forward_impl(const torch::Tensor& x, const torch::Tensor& context) override;
  Result inverse_impl(const torch::Tensor& y, const torch::Tensor& context) override;

 private:
  // log|dy/dx| from the two softplus arguments u = x - low and v = w - s(u).
  torch::Tensor log_det(const torch::Tensor& u, const torch::Tensor& v, const torch::Tensor& width,
                        const torch::Tensor& c) const;

  torch::Tensor low_;
  Positive width_;
  Positive hinge_softness_;
};
TORCH_MODULE(SoftClip);

}  // namespace diffeo
