#include "diffeo/testing/ranks.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "diffeo/distributed/rendezvous.h"

namespace diffeo::testing {

void run_ranks(int world_size, const std::function<void(int, const distributed::ProcessGroup&)>& body,
               const torch::Device& device, std::optional<distributed::Backend> backend) {
  const int port = distributed::free_loopback_port();
  std::vector<std::string> errors(world_size);
  auto rank_main = [&](int rank) {
    try {
      auto group = distributed::join(distributed::Rendezvous()
                                         .master_port(port)
                                         .rank(rank)
                                         .local_rank(rank)
                                         .world_size(world_size)
                                         .timeout(std::chrono::seconds(60)),
                                     device, backend);
      body(rank, group);
    } catch (const std::exception& e) {
      errors[rank] = e.what();
    }
  };
  std::vector<std::thread> others;
  for (int rank = 1; rank < world_size; ++rank) others.emplace_back(rank_main, rank);
  rank_main(0);
  for (auto& thread : others) thread.join();
  for (int rank = 0; rank < world_size; ++rank)
    EXPECT_EQ(errors[rank], "") << "rank " << rank << " of " << world_size << " failed";
}

}  // namespace diffeo::testing
