#pragma once
// The c10d process group that data-parallel training talks to, whatever the LibTorch.

#include <torch/torch.h>
#include <torch/version.h>

#if TORCH_VERSION_MAJOR >= 2
#include <torch/csrc/distributed/c10d/Backend.hpp>
#else
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#endif

#include <string>

namespace diffeo::distributed {

/// One rank's handle on a c10d process group: rank, size and the collectives.
/// LibTorch 1.x's Gloo and NCCL groups derive from c10d::ProcessGroup; from
/// 2.0 on they derive from c10d::Backend, which c10d::ProcessGroup wraps and
/// dispatches to by device.  diffeo holds the backend itself (the same calls,
/// without the dispatch), so the same code builds against Debian 12's LibTorch
/// 1.13 and against 2.x (Debian 13, PyTorch's own builds).  A null handle
/// means a single-process run.
#if TORCH_VERSION_MAJOR >= 2
using ProcessGroup = c10::intrusive_ptr<c10d::Backend>;
#else
using ProcessGroup = c10::intrusive_ptr<c10d::ProcessGroup>;
#endif

/// Which c10d backend carries a group's collectives: Gloo takes CPU tensors
/// (and CUDA ones, where LibTorch built Gloo with CUDA); NCCL takes CUDA
/// tensors only, on the rank's own GPU.
enum class Backend { kGloo, kNccl };

/// The backend that suits tensors on `device`: NCCL for CUDA, Gloo otherwise.
Backend backend_for(const torch::Device& device);

/// "gloo" or "nccl".
std::string backend_name(Backend backend);

/// Where the small host-side values of a collective (agreed losses, generator
/// states, layout checks) must lie for `group`: the current CUDA device for
/// NCCL, the CPU for Gloo.
torch::Device values_device(const ProcessGroup& group);

}  // namespace diffeo::distributed
