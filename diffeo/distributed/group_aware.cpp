#include "diffeo/distributed/group_aware.h"

namespace diffeo::distributed {

torch::Tensor all_reduce_with_grad(const torch::Tensor& tensor, const ProcessGroup& group) {
  auto sum = tensor.detach().clone().contiguous();
  all_reduce_(sum, group);
  if (!tensor.requires_grad()) return sum;
  // The value is the sum exactly (t - t is 0); the gradient reaches `tensor`
  // through the identity, after the hook has summed it over ranks.
  auto result = sum + (tensor - tensor.detach());
  result.register_hook([group](const torch::Tensor& gradient) {
    auto total = gradient.clone().contiguous();
    all_reduce_(total, group);
    return total;
  });
  return result;
}

}  // namespace diffeo::distributed
