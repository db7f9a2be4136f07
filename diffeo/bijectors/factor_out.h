#pragma once

#include <torch/torch.h>

#include "diffeo/bijectors/affine_transform.h"
#include "diffeo/bijectors/bijector.h"
#include "diffeo/bijectors/elementwise_transform.h"

namespace diffeo {

/// Glow's multi-scale split with a learned conditional prior, as a bijector on
/// images [batch..., C, H, W] that keeps their shape (event rank 3).  An image
/// y = [y1, y2] splits into its first C/2 (rounded down) channels y1 and the
/// rest y2.  Inverse (density direction): z1 = inner.inverse(y1) and
/// z2 = t^-1(y2; theta(y1)), with theta = conditioner(y1, context); forward:
/// y1 = inner.forward(z1), then y2 = t(z2; theta(y1)).  With the default
/// soft-clamped AffineTransform, y2 = z2 * exp(log_sigma(y1)) + mu(y1), so a
/// standard normal base on (z1, z2) is the factorised prior
/// p(y1) N(y2; mu(y1), sigma(y1)^2), and with a zero-initialised conditioner the
/// prior starts as N(0, 1).  Log-det = inner's + the transform's (inverse:
/// minus the sum of log_sigma).  `inner` is any shape-preserving event-rank-3
/// bijector on [C/2, H, W] (e.g. the next scale of a multi-scale flow); the
/// conditioner maps [batch..., C/2, H, W] to [batch..., (C - C/2) * P, H, W]
/// as in ConvCoupling.  Both get the context.
class FactorOutImpl : public BijectorImpl {
 public:
  FactorOutImpl(int64_t channels, Bijector inner, torch::nn::AnyModule conditioner,
                Transform transform = affine_transform());

  const Bijector& inner() const { return inner_; }
  const Transform& transform() const { return transform_; }

 protected:
  Result forward_impl(const torch::Tensor& x, const torch::Tensor& context) override;
  Result inverse_impl(const torch::Tensor& y, const torch::Tensor& context) override;

 private:
  Result run(const torch::Tensor& input, const torch::Tensor& context, bool inverse,
             const std::string& arg);

  int64_t channels_;
  Bijector inner_{nullptr};
  torch::nn::AnyModule conditioner_;
  Transform transform_;
};
TORCH_MODULE(FactorOut);

}  // namespace diffeo
