#include "diffeo/bijectors/rotation.h"

#include <cmath>

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"

namespace diffeo {

Rotation2DImpl::Rotation2DImpl(double theta, bool learnable) : BijectorImpl(/*event_rank=*/1) {
  if (!std::isfinite(theta))
    throw Error("Rotation2D: argument 'theta' must be finite, got " + number_string(theta));
  theta_ = register_value(*this, "theta", torch::scalar_tensor(theta), learnable);
  set_event_shape({2});  // refuse vectors of any other size
}

torch::Tensor Rotation2DImpl::matrix() const {
  auto c = torch::cos(theta_), s = torch::sin(theta_);
  return torch::stack({torch::stack({c, -s}), torch::stack({s, c})});
}

// Rows are vectors, so y = x R^T and x = y R (R is orthogonal: R^-1 = R^T).
Result Rotation2DImpl::forward_impl(const torch::Tensor& x, const torch::Tensor&) {
  return {torch::matmul(x, matrix().t()), zero_log_det(x, 1)};
}

Result Rotation2DImpl::inverse_impl(const torch::Tensor& y, const torch::Tensor&) {
  return {torch::matmul(y, matrix()), zero_log_det(y, 1)};
}

}  // namespace diffeo
