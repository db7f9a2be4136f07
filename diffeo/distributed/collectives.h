#pragma once
// The few collectives data-parallel training needs, over a c10d process group.

#include <torch/csrc/distributed/c10d/Types.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "diffeo/distributed/process_group.h"

namespace diffeo::distributed {

/// Copies `root`'s parameters and buffers into every rank's `module`, so all
/// ranks start from the same weights: one broadcast per dtype, of the tensors
/// flattened into one buffer.  The modules must have the same structure (the
/// same tensors in the same order); a mismatch is a diffeo::Error, found from
/// the tensor count and sizes all ranks exchange first.
void broadcast_module(torch::nn::Module& module, const ProcessGroup& group, int root = 0);

/// Reduces `tensor` over all ranks in place (sum by default).  It must be a
/// dense, contiguous tensor with the same size and dtype on every rank (a
/// flat gradient buffer is), on a device the group's backend takes (the
/// rank's GPU for NCCL).
void all_reduce_(const torch::Tensor& tensor, const ProcessGroup& group,
                 c10d::ReduceOp op = c10d::ReduceOp::SUM);

/// Reduces each of `values` over all ranks (in float64) and returns them:
/// the agreed numbers behind decisions every rank must take alike (a loss for
/// the NaN guard, the elapsed time against a budget, a received signal).
std::vector<double> all_reduce(std::vector<double> values, const ProcessGroup& group,
                               c10d::ReduceOp op = c10d::ReduceOp::SUM);

/// Every rank's `tensor` (a dense tensor of the same size and dtype on every
/// rank, on any device), stacked in rank order: [world_size, tensor.sizes()...],
/// on `tensor`'s device.
torch::Tensor all_gather(const torch::Tensor& tensor, const ProcessGroup& group);

/// This rank's part of a global batch of `rows` rows: a contiguous block,
/// the first rows % world ranks taking one row more, so the parts cover every
/// row once.  Weighting each rank's summed loss by 1 / rows (not by its own
/// row count) makes the sum of the ranks' gradients the global batch's mean
/// gradient exactly, whatever the split.
struct Shard {
  int64_t offset = 0, rows = 0;
};
Shard shard(int64_t rows, int rank, int world_size);

}  // namespace diffeo::distributed
