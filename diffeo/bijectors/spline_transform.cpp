#include "diffeo/bijectors/spline_transform.h"

#include "diffeo/core/error.h"

namespace diffeo {

SplineTransform::SplineTransform(int64_t bins, spline::SplineOptions options)
    : bins_(bins), options_(options) {
  options_.validate(bins, "SplineTransform");
}

Result SplineTransform::apply(const torch::Tensor& x, const torch::Tensor& params,
                              bool inverse) const {
  // A conditioner of the wrong width would otherwise silently give another K.
  if (params.dim() < 1 || params.size(-1) != parameters_per_feature())
    throw Error("SplineTransform: argument 'params' has " +
                std::to_string(params.dim() ? params.size(-1) : 0) + " values per coordinate but " +
                std::to_string(bins_) + " bins need " + std::to_string(parameters_per_feature()));
  return spline::rational_quadratic(x, params, inverse, options_);
}

Transform spline_transform(int64_t bins, spline::SplineOptions options) {
  return std::make_shared<SplineTransform>(bins, options);
}

}  // namespace diffeo
