#pragma once

#include <cstdint>
#include <vector>

#include "diffeo/bijectors/bijector.h"
#include "diffeo/bijectors/spline.h"

namespace diffeo {

/// A learnable elementwise rational-quadratic spline (Durkan et al. 2019): on
/// [-bound, bound] a monotonic spline of `bins` bins, outside it the identity
/// (see spline::rational_quadratic).  Its parameters `params`, of shape
/// shape + [3 bins - 1], start at zero, which is the identity map, so a flow
/// built from it starts as its base distribution.  `shape` is the parameter
/// shape ({} for one spline shared by all coordinates, {D} for one per
/// coordinate of D-dimensional data); inputs must end in dimensions it
/// broadcasts into.  Event rank 0; lift it to vectors with Block.
class RationalQuadraticSplineImpl : public BijectorImpl {
 public:
  explicit RationalQuadraticSplineImpl(int64_t bins, std::vector<int64_t> shape = {},
                                       spline::SplineOptions options = {}, bool learnable = true);

  /// The unnormalised parameters, shape + [3 bins - 1].
  torch::Tensor params() const { return params_; }
  int64_t bins() const { return bins_; }
  const spline::SplineOptions& options() const { return options_; }

 protected:
  Result forward_impl(const torch::Tensor& x, const torch::Tensor& context) override;
  Result inverse_impl(const torch::Tensor& y, const torch::Tensor& context) override;

 private:
  int64_t bins_;
  spline::SplineOptions options_;
  torch::Tensor params_;
};
TORCH_MODULE(RationalQuadraticSpline);

}  // namespace diffeo
