#pragma once
// Parameter-free (or nearly so) elementwise bijectors: Exp, Sigmoid, Tanh and
// Softplus.  All have event rank 0: log_det has the input's full shape.

#include "diffeo/bijectors/bijector.h"
#include "diffeo/core/positive.h"

namespace diffeo {

/// y = exp(x), from the reals onto (0, inf); log-det = x.  Like every bijector
/// here whose range is not all of R, its inverse gives log-det -inf outside
/// the range (see DomainGuard), so a flow's log_prob is -inf there, not NaN.
class ExpImpl : public BijectorImpl {
 public:
  ExpImpl();

 protected:
  Result forward_impl(const torch::Tensor& x, const torch::Tensor& context) override;
  Result inverse_impl(const torch::Tensor& y, const torch::Tensor& context) override;
};
TORCH_MODULE(Exp);

/// y = 1 / (1 + exp(-x)), from the reals onto (0, 1); the log-det is computed
/// as -softplus(-x) - softplus(x), stable for large |x|.
class SigmoidImpl : public BijectorImpl {
 public:
  SigmoidImpl();

 protected:
  Result forward_impl(const torch::Tensor& x, const torch::Tensor& context) override;
  Result inverse_impl(const torch::Tensor& y, const torch::Tensor& context) override;
};
TORCH_MODULE(Sigmoid);

/// y = tanh(x), from the reals onto (-1, 1); log-det = 2 (log 2 - x -
/// softplus(-2x)), the stable form of log(1 - tanh(x)^2).
class TanhImpl : public BijectorImpl {
 public:
  TanhImpl();

 protected:
  Result forward_impl(const torch::Tensor& x, const torch::Tensor& context) override;
  Result inverse_impl(const torch::Tensor& y, const torch::Tensor& context) override;
};
TORCH_MODULE(Tanh);

/// y = c * log(1 + exp(x / c)) with hinge softness c > 0 (TFP's Softplus), from
/// the reals onto (0, inf).  Smaller c approaches max(x, 0); a learnable c
/// stays positive (see Positive).
class SoftplusImpl : public BijectorImpl {
 public:
  explicit SoftplusImpl(double hinge_softness = 1.0, bool learnable = false);

  torch::Tensor hinge_softness() const { return hinge_softness_.value(); }

 protected:
  Result forward_impl(const torch::Tensor& x, const torch::Tensor& context) override;
  Result inverse_impl(const torch::Tensor& y, const torch::Tensor& context) override;

 private:
  Positive hinge_softness_;
};
TORCH_MODULE(Softplus);

}  // namespace diffeo
