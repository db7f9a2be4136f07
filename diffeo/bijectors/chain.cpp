#include "diffeo/bijectors/chain.h"

#include <algorithm>

#include "diffeo/core/error.h"
#include "diffeo/core/tensor_ops.h"

namespace diffeo {

static int64_t largest_event_rank(const std::vector<Bijector>& bijectors) {
  if (bijectors.empty()) throw Error("Chain: needs at least one bijector, got none");
  int64_t rank = 0;
  for (size_t i = 0; i < bijectors.size(); ++i) {
    if (bijectors[i].is_empty())
      throw Error("Chain: bijector " + std::to_string(i) + " is empty (nullptr)");
    rank = std::max(rank, bijectors[i]->event_rank());
  }
  return rank;
}

ChainImpl::ChainImpl(std::vector<Bijector> bijectors)
    : BijectorImpl(largest_event_rank(bijectors)) {
  for (size_t i = 0; i < bijectors.size(); ++i)
    bijectors_.push_back(register_module(std::to_string(i), bijectors[i]));
}

Result ChainImpl::forward_impl(const torch::Tensor& x, const torch::Tensor& context) {
  return run(x, context, /*forward=*/true);
}

Result ChainImpl::inverse_impl(const torch::Tensor& y, const torch::Tensor& context) {
  return run(y, context, /*forward=*/false);
}

// Forward visits the members last to first; inverse first to last.
Result ChainImpl::run(const torch::Tensor& input, const torch::Tensor& context, bool forward) {
  torch::Tensor value = input;
  std::vector<torch::Tensor> log_dets;
  const size_t n = bijectors_.size();
  for (size_t k = 0; k < n; ++k) {
    auto& member = bijectors_[forward ? n - 1 - k : k];
    auto step = forward ? member->forward_and_log_det(value, context)
                        : member->inverse_and_log_det(value, context);
    value = step.output;
    log_dets.push_back(sum_rightmost(step.log_det, event_rank() - member->event_rank()));
  }
  return {value, sum_terms(log_dets, input.sizes().slice(0, input.dim() - event_rank()),
                           input.options())};
}

}  // namespace diffeo
