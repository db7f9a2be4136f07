#include "diffeo/bijectors/affine_transform.h"

#include <cmath>

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"

namespace diffeo {

AffineTransform::AffineTransform(double log_scale_bound) : log_scale_bound_(log_scale_bound) {
  if (!(log_scale_bound > 0) || !std::isfinite(log_scale_bound))
    throw Error("AffineTransform: argument 'log_scale_bound' must be positive and finite, got " +
                number_string(log_scale_bound));
}

Result AffineTransform::apply(const torch::Tensor& x, const torch::Tensor& params,
                              bool inverse) const {
  auto shift = params.select(-1, 0);
  auto log_scale = log_scale_bound_ * torch::tanh(params.select(-1, 1) / log_scale_bound_);
  if (inverse) return {(x - shift) * torch::exp(-log_scale), -log_scale};
  return {x * torch::exp(log_scale) + shift, log_scale};
}

Transform affine_transform(double log_scale_bound) {
  return std::make_shared<AffineTransform>(log_scale_bound);
}

}  // namespace diffeo
