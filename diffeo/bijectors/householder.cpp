#include "diffeo/bijectors/householder.h"

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"
#include "diffeo/core/tensor_ops.h"

namespace diffeo {

HouseholderImpl::HouseholderImpl(HouseholderOptions options)
    : BijectorImpl(/*event_rank=*/1), options_(options) {
  check_positive(options.dim(), "dim", "Householder");
  if (options.reflections() < 0)
    throw Error("Householder: argument 'reflections' must be >= 0 (0: dim), got " +
                std::to_string(options.reflections()));
  if (options_.reflections() == 0) options_.reflections(options.dim());
  // Drawn in float64 from a local generator: the same seed gives the same Q
  // everywhere, and a float64 copy keeps every digit.
  auto generator = at::make_generator<at::CPUGeneratorImpl>(options.seed());
  auto initial = torch::randn({options_.reflections(), options.dim()}, generator,
                              torch::TensorOptions().dtype(torch::kFloat64));
  vectors_ =
      register_value(*this, "vectors", initial.to(torch::get_default_dtype()), options.learnable());
  set_event_shape({options.dim()});
}

// Q H = Q - 2 (Q v) v^T / |v|^2, one reflection at a time: O(k dim^2), once per
// call, instead of O(k dim) per row.
torch::Tensor HouseholderImpl::matrix() const {
  auto q = torch::eye(options_.dim(), vectors_.options());
  for (int64_t i = 0; i < options_.reflections(); ++i) {
    auto v = vectors_[i];
    q = q - 2 * torch::outer(torch::mv(q, v), v) / v.dot(v);
  }
  return q;
}

// Rows are vectors: y = x Q^T, and x = y Q since Q^-1 = Q^T.
Result HouseholderImpl::forward_impl(const torch::Tensor& x, const torch::Tensor&) {
  return {torch::matmul(x, matrix().t()), zero_log_det(x, 1)};
}

Result HouseholderImpl::inverse_impl(const torch::Tensor& y, const torch::Tensor&) {
  return {torch::matmul(y, matrix()), zero_log_det(y, 1)};
}

}  // namespace diffeo
