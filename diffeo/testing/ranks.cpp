#include "diffeo/testing/ranks.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "diffeo/distributed/rendezvous.h"

namespace diffeo::testing {

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof(address);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), size), 0);
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size), 0);
  close(fd);
  return ntohs(address.sin_port);
}

void run_ranks(int world_size, const std::function<void(int, const distributed::ProcessGroup&)>& body) {
  const int port = free_port();
  std::vector<std::string> errors(world_size);
  auto rank_main = [&](int rank) {
    try {
      auto group = distributed::join(distributed::Rendezvous()
                                         .master_port(port)
                                         .rank(rank)
                                         .world_size(world_size)
                                         .timeout(std::chrono::seconds(60)));
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
