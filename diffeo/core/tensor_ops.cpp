#include "diffeo/core/tensor_ops.h"

#include <algorithm>
#include <vector>

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"

namespace diffeo {

torch::Tensor sum_rightmost(const torch::Tensor& t, int64_t n) {
  if (n == 0) return t;
  std::vector<int64_t> dims;
  for (int64_t i = 1; i <= n; ++i) dims.push_back(-i);
  return t.sum(dims);
}

torch::Tensor expand_context_to(const torch::Tensor& context, const torch::Tensor& x,
                                int64_t x_event_rank, int64_t features, const std::string& where) {
  check_context_tensor(context, features, x.options(), "the input", where);
  auto shape = x.sizes().slice(0, x.dim() - x_event_rank).vec();
  check_context_batch(context, shape, where);
  shape.push_back(context.size(-1));
  return context.expand(shape);
}

torch::Tensor as_index(const torch::Tensor& indices, const torch::Tensor& like) {
  return indices.to(like.device(), torch::kLong);
}

torch::Tensor register_value(torch::nn::Module& module, const std::string& name,
                             torch::Tensor value, bool learnable) {
  // A copy: registering must not alias the caller's tensor or turn on its requires_grad.
  auto own = value.detach().clone();
  return learnable ? module.register_parameter(name, own) : module.register_buffer(name, own);
}

torch::Tensor in_chunks(int64_t n, int64_t chunk,
                        const std::function<torch::Tensor(int64_t start, int64_t rows)>& block) {
  if (n < 0) throw Error("in_chunks: argument 'n' must be >= 0, got " + std::to_string(n));
  check_positive(chunk, "chunk", "in_chunks");
  // No rows is an empty batch (log_prob_in_chunks of a [0, D] set), not a
  // mistaken count: one empty block gives the result its shape and dtype.
  if (n == 0) return block(0, 0);
  torch::Tensor result;
  for (int64_t start = 0; start < n; start += chunk) {
    const int64_t rows = std::min(chunk, n - start);
    const auto part = block(start, rows);
    if (!result.defined()) {
      auto shape = part.sizes().vec();
      shape[0] = n;
      result = torch::empty(shape, part.options());
    }
    result.narrow(0, start, rows).copy_(part);
  }
  return result;
}

}  // namespace diffeo
