#include "diffeo/bijectors/spline_transform.h"

namespace diffeo {

SplineTransform::SplineTransform(int64_t bins, spline::SplineOptions options)
    : bins_(bins), options_(options) {
  options_.validate(bins, "SplineTransform");
}

Result SplineTransform::apply(const torch::Tensor& x, const torch::Tensor& params,
                              bool inverse) const {
  return spline::rational_quadratic(x, params, inverse, options_);
}

Transform spline_transform(int64_t bins, spline::SplineOptions options) {
  return std::make_shared<SplineTransform>(bins, options);
}

}  // namespace diffeo
