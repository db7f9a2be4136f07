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
  if (!context.defined())
    throw Error(where + ": this network was built for a context of width " +
                std::to_string(features) + " but no context was given");
  if (context.dim() < 1 || context.size(-1) != features)
    throw Error(where + ": argument 'context' of shape " + shape_string(context.sizes()) +
                " should have " + std::to_string(features) + " features");
  auto shape = x.sizes().slice(0, x.dim() - x_event_rank).vec();
  bool ok = context.dim() >= 1;
  const auto batch = ok ? context.sizes().slice(0, context.dim() - 1) : torch::IntArrayRef{};
  ok = ok && batch.size() <= shape.size();
  for (size_t i = 1; ok && i <= batch.size(); ++i)
    ok = batch[batch.size() - i] == 1 || batch[batch.size() - i] == shape[shape.size() - i];
  if (!ok)
    throw Error(where + ": argument 'context' of shape " + shape_string(context.sizes()) +
                " does not match the input's batch shape " + shape_string(shape) +
                " (expected [batch..., features])");
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
  check_positive(n, "n", "in_chunks");
  check_positive(chunk, "chunk", "in_chunks");
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
