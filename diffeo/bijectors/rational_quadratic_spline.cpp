#include "diffeo/bijectors/rational_quadratic_spline.h"

#include "diffeo/core/checks.h"

namespace diffeo {

// Checks the arguments before the members that depend on them are built.
static std::vector<int64_t> params_shape(int64_t bins, std::vector<int64_t> shape,
                                         const spline::SplineOptions& options) {
  const std::string where = "RationalQuadraticSpline";
  options.validate(bins, where);
  for (auto size : shape) check_positive(size, "shape", where);
  shape.push_back(spline::parameter_count(bins));
  return shape;
}

RationalQuadraticSplineImpl::RationalQuadraticSplineImpl(int64_t bins, std::vector<int64_t> shape,
                                                         spline::SplineOptions options,
                                                         bool learnable)
    : BijectorImpl(0),
      bins_(bins),
      options_(options),
      params_(register_value(*this, "params", torch::zeros(params_shape(bins, shape, options)),
                             learnable)) {
  set_parameter_shape(shape);
}

Result RationalQuadraticSplineImpl::forward_impl(const torch::Tensor& x, const torch::Tensor&) {
  return spline::rational_quadratic(x, params_, /*inverse=*/false, options_);
}

Result RationalQuadraticSplineImpl::inverse_impl(const torch::Tensor& y, const torch::Tensor&) {
  return spline::rational_quadratic(y, params_, /*inverse=*/true, options_);
}

}  // namespace diffeo
