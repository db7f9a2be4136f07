// The collectives of data-parallel training, over real process groups (one
// thread per rank, loopback): shards partition a batch, reductions agree,
// broadcast_module equalises models (or refuses different ones), and the
// shard-weighted gradients of a flow sum to the global batch's gradient.

#include <gtest/gtest.h>

#include "diffeo/diffeo.h"
#include "diffeo/testing/expect_error.h"
#include "diffeo/testing/ranks.h"

namespace diffeo::distributed {
namespace {

using testing::expect_error;
using testing::run_ranks;

flows::Flow realnvp(int64_t hidden, uint64_t seed) {
  auto flow = flows::build("realnvp", flows::FlowOptions(2).layers(4).hidden({hidden}).seed(seed));
  flow->to(torch::kFloat64);
  return flow;
}

// All gradients of `module` as one float64 vector, in parameter order.
torch::Tensor flat_gradient(torch::nn::Module& module) {
  std::vector<torch::Tensor> parts;
  for (const auto& p : module.parameters()) parts.push_back(p.grad().reshape(-1));
  return torch::cat(parts);
}

TEST(Shard, PartitionsEveryBatchInOrder) {
  for (int64_t rows : {0, 1, 5, 64, 65, 1000}) {
    for (int world : {1, 2, 3, 7}) {
      int64_t next = 0, smallest = rows, largest = 0;
      for (int rank = 0; rank < world; ++rank) {
        auto part = shard(rows, rank, world);
        EXPECT_EQ(part.offset, next) << rows << " rows, rank " << rank << " of " << world;
        next += part.rows;
        smallest = std::min(smallest, part.rows);
        largest = std::max(largest, part.rows);
      }
      EXPECT_EQ(next, rows) << rows << " rows over " << world;
      EXPECT_LE(largest - smallest, 1) << rows << " rows over " << world;
    }
  }
  expect_error([] { shard(10, 2, 2); }, {"rank 2", "[0, 2)"});
  expect_error([] { shard(-1, 0, 2); }, {"rows", "-1"});
}

TEST(Collectives, ReductionsAgreeOnEveryRank) {
  run_ranks(3, [](int rank, const ProcessGroup& group) {
    EXPECT_EQ(all_reduce({1.0 + rank, 0.5}, group), (std::vector<double>{6.0, 1.5}));
    EXPECT_EQ(all_reduce({1.0 + rank, -rank * 1.0}, group, c10d::ReduceOp::MAX),
              (std::vector<double>{3.0, 0.0}));
    EXPECT_EQ(all_reduce({1.0 + rank}, group, c10d::ReduceOp::MIN), (std::vector<double>{1.0}));
    auto tensor = torch::arange(4, torch::kFloat32) * (rank + 1);
    all_reduce_(tensor, group);
    EXPECT_TRUE(torch::equal(tensor, torch::arange(4, torch::kFloat32) * 6)) << tensor;
    auto strided = torch::zeros({4, 4}).t();
    expect_error([&] { all_reduce_(strided, group); }, {"contiguous"});
  });
}

TEST(Collectives, BroadcastModuleCopiesRankZerosWeightsAndBuffers) {
  // Built here, not in the rank threads: the builders' seeding is not thread-safe.
  std::vector<flows::Flow> models{realnvp(16, 1), realnvp(16, 2)};
  auto glows = std::vector<flows::Flow>{
      flows::build("glow", flows::FlowOptions(2).layers(2).hidden({8}).seed(1)),
      flows::build("glow", flows::FlowOptions(2).layers(2).hidden({8}).seed(2))};
  glows[0]->log_prob(torch::randn({32, 2}));  // ActNorm initialises: buffers differ
  ASSERT_FALSE(torch::equal(models[0]->parameters()[0], models[1]->parameters()[0]));
  run_ranks(2, [&](int rank, const ProcessGroup& group) {
    broadcast_module(*models[rank], group);
    broadcast_module(*glows[rank], group);
  });
  for (auto* pair : {&models, &glows}) {
    auto named0 = (*pair)[0]->named_parameters(), named1 = (*pair)[1]->named_parameters();
    ASSERT_EQ(named0.size(), named1.size());
    for (const auto& item : named0)
      EXPECT_TRUE(torch::equal(item.value(), named1[item.key()])) << item.key();
    auto buffers0 = (*pair)[0]->named_buffers(), buffers1 = (*pair)[1]->named_buffers();
    for (const auto& item : buffers0)
      EXPECT_TRUE(torch::equal(item.value(), buffers1[item.key()])) << item.key();
  }
}

TEST(Collectives, BroadcastModuleRefusesDifferentModels) {
  std::vector<flows::Flow> models{realnvp(8, 1), realnvp(16, 1)};
  run_ranks(2, [&](int rank, const ProcessGroup& group) {
    expect_error([&] { broadcast_module(*models[rank], group); }, {"modules differ"});
  });
}

// The contract of data parallelism: each rank sums its shard's loss, divided
// by the global batch size; the sum over ranks of the resulting gradients is
// the gradient of the global batch's mean loss (float64, any split).
TEST(Collectives, ShardGradientsSumToTheGlobalBatchGradient) {
  const int64_t batch = 64;
  torch::manual_seed(5);
  auto x = torch::randn({batch, 2}, torch::kFloat64) * 1.5;
  auto reference = realnvp(16, 4);
  (-reference->log_prob(x).mean()).backward();
  const auto expected = flat_gradient(*reference);

  for (int world : {2, 3}) {
    std::vector<flows::Flow> models;
    for (int rank = 0; rank < world; ++rank) models.push_back(realnvp(16, 4));
    std::vector<torch::Tensor> reduced(world);
    run_ranks(world, [&](int rank, const ProcessGroup& group) {
      auto part = shard(batch, rank, world);
      auto loss = -models[rank]->log_prob(x.narrow(0, part.offset, part.rows)).sum() / batch;
      loss.backward();
      auto gradient = flat_gradient(*models[rank]).contiguous();
      all_reduce_(gradient, group);
      reduced[rank] = gradient;
    });
    for (int rank = 0; rank < world; ++rank) {
      ASSERT_TRUE(reduced[rank].defined());
      EXPECT_TRUE(torch::allclose(reduced[rank], expected, 1e-12, 1e-14))
          << world << " ranks, rank " << rank << ": max difference "
          << (reduced[rank] - expected).abs().max().item<double>();
    }
  }
}

}  // namespace
}  // namespace diffeo::distributed
