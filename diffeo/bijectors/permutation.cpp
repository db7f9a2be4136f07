#include "diffeo/bijectors/permutation.h"

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"

namespace diffeo {

static torch::Tensor checked_permutation(const std::vector<int64_t>& permutation) {
  const auto n = static_cast<int64_t>(permutation.size());
  if (n == 0) throw Error("Permute: argument 'permutation' is empty");
  std::vector<bool> seen(n, false);
  for (int64_t index : permutation) {
    if (index < 0 || index >= n || seen[index])
      throw Error("Permute: argument 'permutation' must hold each of 0.." + std::to_string(n - 1) +
                  " exactly once, got " + shape_string(permutation));
    seen[index] = true;
  }
  return torch::tensor(permutation, torch::kLong);
}

PermuteImpl::PermuteImpl(std::vector<int64_t> permutation) : BijectorImpl(1) {
  auto forward = checked_permutation(permutation);
  permutation_ = register_buffer("permutation", forward);
  inverse_permutation_ = register_buffer("inverse_permutation", torch::argsort(forward));
  set_event_shape({forward.size(0)});
}

Result PermuteImpl::forward_impl(const torch::Tensor& x, const torch::Tensor&) {
  return {x.index_select(-1, as_index(permutation_, x)), zero_log_det(x, 1)};
}

Result PermuteImpl::inverse_impl(const torch::Tensor& y, const torch::Tensor&) {
  return {y.index_select(-1, as_index(inverse_permutation_, y)), zero_log_det(y, 1)};
}

ReverseImpl::ReverseImpl() : BijectorImpl(1) {}

Result ReverseImpl::forward_impl(const torch::Tensor& x, const torch::Tensor&) {
  return {x.flip(-1), zero_log_det(x, 1)};
}

Result ReverseImpl::inverse_impl(const torch::Tensor& y, const torch::Tensor&) {
  return forward_impl(y, {});
}

}  // namespace diffeo
