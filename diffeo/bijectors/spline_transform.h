#pragma once

#include "diffeo/bijectors/elementwise_transform.h"
#include "diffeo/bijectors/spline.h"

namespace diffeo {

/// The rational-quadratic spline (spline::rational_quadratic) as the inner
/// transform of coupling and autoregressive layers: K bins on [-B, B], the
/// identity outside, P = 3K - 1 conditioner outputs per coordinate, the
/// identity when they are all 0.  This makes a neural spline flow (NSF).
class SplineTransform : public ElementwiseTransform {
 public:
  explicit SplineTransform(int64_t bins, spline::SplineOptions options = {});

  int64_t parameters_per_feature() const override { return spline::parameter_count(bins_); }
  Result apply(const torch::Tensor& x, const torch::Tensor& params, bool inverse) const override;
  std::string name() const override { return "spline"; }

  int64_t bins() const { return bins_; }
  const spline::SplineOptions& options() const { return options_; }

 private:
  int64_t bins_;
  spline::SplineOptions options_;
};

/// A shared SplineTransform.
Transform spline_transform(int64_t bins, spline::SplineOptions options = {});

}  // namespace diffeo
