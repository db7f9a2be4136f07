#include "diffeo/distributed/process_group.h"

namespace diffeo::distributed {

Backend backend_for(const torch::Device& device) {
  return device.is_cuda() ? Backend::kNccl : Backend::kGloo;
}

std::string backend_name(Backend backend) { return backend == Backend::kNccl ? "nccl" : "gloo"; }

torch::Device values_device(const ProcessGroup& group) {
  // Index -1: the current CUDA device, which join() set to the rank's own.
  return group && group->getBackendName() == "nccl" ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
}

}  // namespace diffeo::distributed
