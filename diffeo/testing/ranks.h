#pragma once
// run_ranks: a data-parallel run inside one test process, one thread per rank.

#include <functional>
#include <optional>

#include "diffeo/distributed/collectives.h"

namespace diffeo::testing {

/// Runs `body(rank, group)` for every rank of a `world_size` process group
/// joined over loopback, each in its own thread, and waits for all.  An
/// exception in any rank becomes a test failure naming the rank.  The c10d
/// timeout is 60 s, so a rank stuck in a collective fails the test instead of
/// hanging it.  `device` and `backend` are passed on to distributed::join
/// (CPU and Gloo by default).
void run_ranks(int world_size, const std::function<void(int, const distributed::ProcessGroup&)>& body,
               const torch::Device& device = torch::kCPU,
               std::optional<distributed::Backend> backend = std::nullopt);

}  // namespace diffeo::testing
