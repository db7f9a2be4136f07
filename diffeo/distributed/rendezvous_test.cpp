// Rendezvous from torchrun's variables, and c10d process groups formed over
// loopback: two ranks in two threads of this process exchange real tensors;
// bad variables, a missing master and missing peers fail with diffeo::Error in
// bounded time.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <map>

#include "diffeo/distributed/rendezvous.h"
#include "diffeo/testing/expect_error.h"
#include "diffeo/testing/ranks.h"

namespace diffeo::distributed {
namespace {

using testing::expect_error;
using testing::run_ranks;

// Sets the torchrun variables for one test and restores them after it.
class ScopedEnvironment {
 public:
  explicit ScopedEnvironment(const std::map<std::string, std::string>& values) {
    for (const char* name : {"WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"}) {
      if (const char* old = std::getenv(name)) saved_[name] = old;
      unsetenv(name);
    }
    for (const auto& [name, value] : values) setenv(name.c_str(), value.c_str(), 1);
  }
  ~ScopedEnvironment() {
    for (const char* name : {"WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"}) {
      unsetenv(name);
    }
    for (const auto& [name, value] : saved_) setenv(name.c_str(), value.c_str(), 1);
  }

 private:
  std::map<std::string, std::string> saved_;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST(Rendezvous, FromTheEnvironment) {
  {
    ScopedEnvironment none({});
    EXPECT_FALSE(Rendezvous::from_environment().has_value());
    EXPECT_FALSE(join_from_environment());  // a single-process run: no group
  }
  {
    ScopedEnvironment torchrun({{"WORLD_SIZE", "4"}, {"RANK", "3"}, {"LOCAL_RANK", "1"},
                                {"MASTER_ADDR", "node0.example"}, {"MASTER_PORT", "29611"}});
    auto r = Rendezvous::from_environment();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->world_size(), 4);
    EXPECT_EQ(r->rank(), 3);
    EXPECT_EQ(r->local_rank(), 1);
    EXPECT_EQ(r->master_addr(), "node0.example");
    EXPECT_EQ(r->master_port(), 29611);
  }
  {
    ScopedEnvironment defaults({{"WORLD_SIZE", "2"}, {"RANK", "1"}});
    auto r = Rendezvous::from_environment();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->master_addr(), "127.0.0.1");
    EXPECT_EQ(r->master_port(), 29500);
    EXPECT_EQ(r->local_rank(), 1);
  }
}

TEST(Rendezvous, BadVariablesNameTheVariable) {
  auto refused = [](std::map<std::string, std::string> values,
                    std::initializer_list<const char*> parts) {
    ScopedEnvironment environment(values);
    expect_error([] { Rendezvous::from_environment(); }, parts);
  };
  refused({{"WORLD_SIZE", "two"}, {"RANK", "0"}}, {"WORLD_SIZE", "integer", "'two'"});
  refused({{"WORLD_SIZE", "2"}}, {"RANK is not"});
  refused({{"WORLD_SIZE", "2"}, {"RANK", "2"}}, {"RANK", "[0, 2)", "got 2"});
  refused({{"WORLD_SIZE", "2"}, {"RANK", "-1"}}, {"RANK", "got -1"});
  refused({{"WORLD_SIZE", "0"}, {"RANK", "0"}}, {"WORLD_SIZE", "at least 1"});
  refused({{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"MASTER_PORT", "70000"}}, {"MASTER_PORT", "70000"});
  refused({{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"MASTER_PORT", "12ab"}}, {"MASTER_PORT", "'12ab'"});
  refused({{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"LOCAL_RANK", "-3"}}, {"LOCAL_RANK", "got -3"});
}

TEST(Rendezvous, TwoRanksOverLoopbackReduceAndBroadcast) {
  torch::Tensor sums[2], broadcasts[2];
  run_ranks(2, [&](int rank, const distributed::ProcessGroup& group) {
    EXPECT_EQ(group->getRank(), rank);
    EXPECT_EQ(group->getSize(), 2);
    std::vector<torch::Tensor> sum{torch::tensor({1.0, 10.0}, torch::kFloat64) * (rank + 1)};
    group->allreduce(sum)->wait();
    std::vector<torch::Tensor> broadcast{torch::full({3}, 7.0f + rank)};
    group->broadcast(broadcast)->wait();
    sums[rank] = sum[0];
    broadcasts[rank] = broadcast[0];
  });
  for (int rank = 0; rank < 2; ++rank) {
    EXPECT_TRUE(torch::equal(sums[rank], torch::tensor({3.0, 30.0}, torch::kFloat64))) << sums[rank];
    EXPECT_TRUE(torch::equal(broadcasts[rank], torch::full({3}, 7.0f))) << broadcasts[rank];
  }
}

TEST(Rendezvous, AMissingMasterFailsWithinTheTimeout) {
  auto start = std::chrono::steady_clock::now();
  auto r = Rendezvous().master_port(free_loopback_port()).rank(1).world_size(2).timeout(std::chrono::seconds(2));
  expect_error([&] { join(r); }, {"rendezvous at 127.0.0.1:", "(rank 1 of 2) failed"});
  EXPECT_LT(seconds_since(start), 20.0);
}

TEST(Rendezvous, MissingPeersFailWithinTheTimeout) {
  auto start = std::chrono::steady_clock::now();
  auto r = Rendezvous().master_port(free_loopback_port()).rank(0).world_size(2).timeout(std::chrono::seconds(2));
  expect_error([&] { join(r); }, {"(rank 0 of 2) failed"});
  EXPECT_LT(seconds_since(start), 20.0);
}

TEST(Rendezvous, RefusesWhatItCannotJoin) {
  expect_error([] { join(Rendezvous().rank(0).world_size(1), torch::kCPU, Backend::kNccl); },
               {"NCCL takes CUDA tensors only", "cpu"});
  if (!torch::cuda::is_available()) {
    expect_error([] { join(Rendezvous().rank(0).world_size(1), torch::Device(torch::kCUDA, 0)); },
                 {"cuda:0", "no CUDA device is available"});
  } else {
    const auto count = static_cast<int>(torch::cuda::device_count());
    const std::string missing = "cuda:" + std::to_string(count);
    expect_error([count] { join(Rendezvous().rank(0).world_size(1), torch::Device(torch::kCUDA, count)); },
                 {missing.c_str(), "does not exist"});
  }
  expect_error([] { join(Rendezvous().master_addr("no-such-host.invalid").rank(1).world_size(2)); },
               {"cannot resolve MASTER_ADDR 'no-such-host.invalid'"});
}

}  // namespace
}  // namespace diffeo::distributed
