#pragma once
// Joining a data-parallel run: a c10d process group from torchrun's variables.

#include <torch/torch.h>

#include <chrono>
#include <optional>
#include <string>

#include "diffeo/distributed/process_group.h"

namespace diffeo::distributed {

/// Where the processes of a data-parallel run meet and which one this is, in
/// torchrun's convention (MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE, LOCAL_RANK),
/// so a diffeo program joins runs started by torchrun, SLURM or Kubernetes
/// launchers unchanged.  Rank 0 serves c10d's TCP store on master_addr:master_port
/// and the others connect to it; `timeout` bounds the wait for every rank to
/// arrive and, later, every collective, so a missing rank is an error, not a hang.
struct Rendezvous {
  /// The rendezvous the environment describes, or nullopt when WORLD_SIZE is
  /// unset (a single-process run).  MASTER_ADDR defaults to 127.0.0.1,
  /// MASTER_PORT to 29500, LOCAL_RANK to RANK; RANK is required once
  /// WORLD_SIZE is set.  A malformed value is a diffeo::Error naming the variable.
  static std::optional<Rendezvous> from_environment();

  /// Throws diffeo::Error unless 1 <= world_size, 0 <= rank < world_size,
  /// 0 <= local_rank, the port is in 1..65535, the address is not empty and the
  /// timeout is positive.
  void validate() const;

  TORCH_ARG(std::string, master_addr) = "127.0.0.1";
  TORCH_ARG(int, master_port) = 29500;
  TORCH_ARG(int, rank) = 0;
  TORCH_ARG(int, world_size) = 1;
  TORCH_ARG(int, local_rank) = 0;
  TORCH_ARG(std::chrono::milliseconds, timeout) = std::chrono::minutes(5);
};

/// The process group of this rank, after every rank has arrived.  `backend`
/// defaults to the one that suits `device` (backend_for: Gloo for CPU
/// tensors, NCCL for CUDA ones where LibTorch has it); Gloo on a CUDA device
/// is allowed where LibTorch built Gloo with CUDA, e.g. several ranks sharing
/// one GPU, which NCCL refuses.  For a CUDA device the rank's GPU (the
/// device's index, else LOCAL_RANK) becomes this thread's current device.
/// Gloo binds to the interface named by GLOO_SOCKET_IFNAME when set, else to
/// the local address through which master_addr is reached, so ranks on other
/// machines (or network namespaces) can connect back.  Throws diffeo::Error,
/// naming the rendezvous, when the master cannot be reached within the
/// timeout, the backend or the GPU is missing, or the group cannot be formed.
ProcessGroup join(const Rendezvous& rendezvous, const torch::Device& device = torch::kCPU,
                  std::optional<Backend> backend = std::nullopt);

/// This process's group when it was started as a rank of a run (WORLD_SIZE
/// set: by `diffeo train --nproc`, torchrun, SLURM, ...), after every rank has
/// joined, with the backend that suits `device`; none (a null group) in a
/// single-process run.
ProcessGroup join_from_environment(const torch::Device& device = torch::kCPU);

/// A TCP port on the loopback interface that nobody listens on right now (the
/// kernel's choice): the master port of a run on one machine, as torchrun
/// --standalone picks one.  diffeo::Error when no socket can be bound.
int free_loopback_port();

}  // namespace diffeo::distributed
