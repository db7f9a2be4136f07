#include "diffeo/bijectors/bernstein_transform.h"

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"

namespace diffeo {

BernsteinTransform::BernsteinTransform(int64_t order, bernstein::BernsteinOptions options)
    : order_(order), options_(options) {
  options_.validate(order, "BernsteinTransform");
}

int64_t BernsteinTransform::parameters_per_feature() const {
  return bernstein::parameter_count(order_, options_);
}

Result BernsteinTransform::apply(const torch::Tensor& x, const torch::Tensor& params,
                                 bool inverse) const {
  // bernstein::apply reads the order from params, so a wrong size would
  // silently give another polynomial.
  const int64_t expected = parameters_per_feature();
  check_defined(params, "params", "BernsteinTransform");
  if (params.dim() == 0 || params.size(-1) != expected)
    throw Error("BernsteinTransform: argument 'params' of shape " + shape_string(params.sizes()) +
                " must end in " + std::to_string(expected) + " values for order " +
                std::to_string(order_));
  return bernstein::apply(x, params, inverse, options_);
}

Transform bernstein_transform(int64_t order, bernstein::BernsteinOptions options) {
  return std::make_shared<BernsteinTransform>(order, options);
}

}  // namespace diffeo
