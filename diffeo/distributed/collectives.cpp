#include "diffeo/distributed/collectives.h"

#include <map>
#include <string>

#include "diffeo/core/error.h"

namespace diffeo::distributed {
namespace {

void wait(const c10::intrusive_ptr<c10d::Work>& work, const char* what) {
  try {
    work->wait();
  } catch (const c10::Error& e) {
    throw Error(std::string(what) + " failed: " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Error(std::string(what) + " failed: " + e.what());
  }
}

void check_group(const ProcessGroup& group, const char* function) {
  if (!group) throw Error(std::string(function) + ": the process group is empty");
}

}  // namespace

void broadcast_module(torch::nn::Module& module, const ProcessGroup& group, int root) {
  check_group(group, "broadcast_module");
  if (root < 0 || root >= group->getSize()) {
    throw Error("broadcast_module: root " + std::to_string(root) + " is not a rank of a group of " +
                std::to_string(group->getSize()));
  }
  std::vector<torch::Tensor> tensors = module.parameters();
  for (const auto& buffer : module.buffers()) tensors.push_back(buffer);

  // The layout first: a rank whose module differs must fail, not receive
  // another model's numbers.  Each rank sums its (count, sizes) signature and
  // compares the sum with world_size times its own.
  double signature = static_cast<double>(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i)
    signature += static_cast<double>(tensors[i].numel()) * static_cast<double>(i + 2) +
                 static_cast<double>(tensors[i].scalar_type()) * 1e-3;
  auto agreed = all_reduce({signature, -signature}, group, c10d::ReduceOp::MAX);
  if (agreed[0] != signature || -agreed[1] != signature) {
    throw Error("broadcast_module: the ranks' modules differ (another architecture, size or dtype "
                "on some rank)");
  }

  torch::NoGradGuard no_grad;
  std::map<c10::ScalarType, std::vector<torch::Tensor>> by_dtype;
  for (const auto& t : tensors)
    if (t.numel() > 0) by_dtype[t.scalar_type()].push_back(t);
  for (auto& [dtype, members] : by_dtype) {
    std::vector<torch::Tensor> flat{
        torch::cat(c10::fmap(members, [](const torch::Tensor& t) { return t.detach().reshape(-1); }))};
    c10d::BroadcastOptions options;
    options.rootRank = root;
    wait(group->broadcast(flat, options), "broadcast_module");
    int64_t offset = 0;
    for (auto& t : members) {
      t.copy_(flat[0].narrow(0, offset, t.numel()).view_as(t));
      offset += t.numel();
    }
  }
}

void all_reduce_(const torch::Tensor& tensor, const ProcessGroup& group, c10d::ReduceOp op) {
  check_group(group, "all_reduce_");
  if (!tensor.defined() || !tensor.is_contiguous() || tensor.is_sparse()) {
    throw Error("all_reduce_: the tensor must be defined, dense and contiguous");
  }
  std::vector<torch::Tensor> tensors{tensor};
  c10d::AllreduceOptions options;
  options.reduceOp = op;
  wait(group->allreduce(tensors, options), "all_reduce_");
}

std::vector<double> all_reduce(std::vector<double> values, const ProcessGroup& group,
                               c10d::ReduceOp op) {
  if (values.empty()) return values;
  check_group(group, "all_reduce");
  auto tensor = torch::tensor(values, torch::kFloat64).to(values_device(group));
  all_reduce_(tensor, group, op);
  tensor = tensor.cpu();
  auto reduced = tensor.accessor<double, 1>();
  for (size_t i = 0; i < values.size(); ++i) values[i] = reduced[static_cast<int64_t>(i)];
  return values;
}

torch::Tensor all_gather(const torch::Tensor& tensor, const ProcessGroup& group) {
  check_group(group, "all_gather");
  if (!tensor.defined() || tensor.is_sparse())
    throw Error("all_gather: the tensor must be defined and dense");
  std::vector<torch::Tensor> input{tensor.to(values_device(group)).contiguous()};
  std::vector<std::vector<torch::Tensor>> output(1);
  for (int r = 0; r < group->getSize(); ++r) output[0].push_back(torch::empty_like(input[0]));
  wait(group->allgather(output, input), "all_gather");
  return torch::stack(output[0]).to(tensor.device());
}

Shard shard(int64_t rows, int rank, int world_size) {
  if (world_size < 1 || rank < 0 || rank >= world_size) {
    throw Error("shard: rank " + std::to_string(rank) + " is not in [0, " +
                std::to_string(world_size) + ")");
  }
  if (rows < 0) throw Error("shard: rows must be >= 0, got " + std::to_string(rows));
  const int64_t base = rows / world_size, extra = rows % world_size;
  return {rank * base + std::min<int64_t>(rank, extra), base + (rank < extra ? 1 : 0)};
}

}  // namespace diffeo::distributed
