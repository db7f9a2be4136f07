#pragma once
// Modules that compute across ranks while training data-parallel.

#include "diffeo/distributed/collectives.h"

namespace diffeo::distributed {

/// A module whose training-mode computation must span the global batch, not
/// the rank's shard (BatchNorm's batch statistics): train::fit hands it the
/// process group for the duration of a data-parallel fit and takes it back
/// (none) at the end.  With a group, every rank must run the module on every
/// step, as fit does.
class GroupAware {
 public:
  virtual ~GroupAware() = default;
  virtual void set_process_group(ProcessGroup group) = 0;
};

/// The sum over ranks of `tensor`, differentiable: the backward pass sums the
/// incoming gradients over ranks too, so each rank's inputs receive the
/// gradient of the total loss of all ranks (what a global-batch statistic
/// needs).
torch::Tensor all_reduce_with_grad(const torch::Tensor& tensor, const ProcessGroup& group);

}  // namespace diffeo::distributed
