#include "diffeo/bijectors/inverse.h"

#include "diffeo/core/error.h"

namespace diffeo {

static int64_t rank_of(const Bijector& bijector, const char* where) {
  if (bijector.is_empty()) throw Error(std::string(where) + ": bijector is empty (nullptr)");
  return bijector->event_rank();
}

InverseImpl::InverseImpl(Bijector bijector)
    : BijectorImpl(rank_of(bijector, "Inverse")),
      bijector_(register_module("bijector", bijector)) {}

Result InverseImpl::forward_impl(const torch::Tensor& x, const torch::Tensor& context) {
  return bijector_->inverse_and_log_det(x, context);
}

Result InverseImpl::inverse_impl(const torch::Tensor& y, const torch::Tensor& context) {
  return bijector_->forward_and_log_det(y, context);
}

}  // namespace diffeo
