#pragma once

#include "diffeo/bijectors/elementwise_transform.h"

namespace diffeo {

/// y = x * exp(s) + t with theta = (t, r) and a soft-clamped log-scale
/// s = c * tanh(r / c): |s| < c however large the conditioner's output grows,
/// so no step can explode a scale (RealNVP/Glow's failure mode).  P = 2.
class AffineTransform : public ElementwiseTransform {
 public:
  /// `log_scale_bound` is c > 0.
  explicit AffineTransform(double log_scale_bound = 3.0);

  int64_t parameters_per_feature() const override { return 2; }
  Result apply(const torch::Tensor& x, const torch::Tensor& params, bool inverse) const override;
  std::string name() const override { return "affine"; }

  double log_scale_bound() const { return log_scale_bound_; }

 private:
  double log_scale_bound_;
};

/// A shared AffineTransform.
Transform affine_transform(double log_scale_bound = 3.0);

}  // namespace diffeo
