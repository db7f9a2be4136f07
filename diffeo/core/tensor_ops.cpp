#include "diffeo/core/tensor_ops.h"

#include <vector>

namespace diffeo {

torch::Tensor sum_rightmost(const torch::Tensor& t, int64_t n) {
  if (n == 0) return t;
  std::vector<int64_t> dims;
  for (int64_t i = 1; i <= n; ++i) dims.push_back(-i);
  return t.sum(dims);
}

torch::Tensor register_value(torch::nn::Module& module, const std::string& name,
                             torch::Tensor value, bool learnable) {
  // A copy: registering must not alias the caller's tensor or turn on its requires_grad.
  auto own = value.detach().clone();
  return learnable ? module.register_parameter(name, own) : module.register_buffer(name, own);
}

}  // namespace diffeo
