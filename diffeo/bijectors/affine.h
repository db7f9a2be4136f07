#pragma once
// Elementwise affine bijectors: Shift, Scale and ScalarAffine.

#include "diffeo/bijectors/bijector.h"
#include "diffeo/core/positive.h"

namespace diffeo {

/// y = x + loc, elementwise (event rank 0); log-det 0.  `loc` broadcasts into
/// the input's trailing dimensions (shape [] or, for 2-D data, [2]).
class ShiftImpl : public BijectorImpl {
 public:
  explicit ShiftImpl(torch::Tensor loc, bool learnable = true);
  explicit ShiftImpl(double loc, bool learnable = true);

  torch::Tensor loc() const { return loc_; }

 protected:
  Result forward_impl(const torch::Tensor& x, const torch::Tensor& context) override;
  Result inverse_impl(const torch::Tensor& y, const torch::Tensor& context) override;

 private:
  torch::Tensor loc_;
};
TORCH_MODULE(Shift);

/// y = scale * x, elementwise, with a positive scale (a learnable one is kept
/// positive through softplus, see Positive).  log-det = log(scale) per element.
class ScaleImpl : public BijectorImpl {
 public:
  explicit ScaleImpl(torch::Tensor scale, bool learnable = true);
  explicit ScaleImpl(double scale, bool learnable = true);

  torch::Tensor scale() const { return scale_.value(); }

 protected:
  Result forward_impl(const torch::Tensor& x, const torch::Tensor& context) override;
  Result inverse_impl(const torch::Tensor& y, const torch::Tensor& context) override;

 private:
  Positive scale_;
};
TORCH_MODULE(Scale);

/// y = x * exp(log_scale) + shift, elementwise (distrax's ScalarAffine with a
/// log-scale); log-det = log_scale per element.  Both parameters broadcast.
class ScalarAffineImpl : public BijectorImpl {
 public:
  ScalarAffineImpl(torch::Tensor shift, torch::Tensor log_scale, bool learnable = true);
  ScalarAffineImpl(double shift, double log_scale, bool learnable = true);

  torch::Tensor shift() const { return shift_; }
  torch::Tensor log_scale() const { return log_scale_; }

 protected:
  Result forward_impl(const torch::Tensor& x, const torch::Tensor& context) override;
  Result inverse_impl(const torch::Tensor& y, const torch::Tensor& context) override;

 private:
  torch::Tensor shift_;
  torch::Tensor log_scale_;
};
TORCH_MODULE(ScalarAffine);

}  // namespace diffeo
