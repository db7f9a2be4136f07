// Data-parallel train::fit (FitOptions::process_group), with the ranks as
// threads over loopback: on a data set, N ranks sharing a global batch end
// where one process does (float64, 1e-9), ActNorm's initialisation included;
// with fresh batches the ranks stay identical to each other and learn as well
// as one process; checkpoints of a distributed run resume exactly; what is
// not supported yet is refused.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "diffeo/diffeo.h"
#include "diffeo/testing/expect_error.h"
#include "diffeo/testing/fit_equivalence.h"
#include "diffeo/testing/ranks.h"

namespace diffeo::train {
namespace {

namespace fs = std::filesystem;
using testing::banana_rows;
using testing::equivalence_flow;
using testing::equivalence_options;
using testing::expect_error;
using testing::expect_same_losses;
using testing::expect_weights_close;
using testing::run_ranks;

TEST(DataParallelFit, RanksSharingAGlobalBatchEndWhereOneProcessDoes) {
  const auto rows = banana_rows();
  const auto data = rows.first, validation = rows.second;
  for (const std::string name : {"realnvp", "nsf"}) {
    auto single = equivalence_flow(name);
    const auto reference = fit(single, data, equivalence_options(), {}, validation);
    for (int world : {2, 3}) {  // 64 rows: 32 + 32 and 22 + 21 + 21
      std::vector<flows::Flow> models;
      for (int rank = 0; rank < world; ++rank) models.push_back(equivalence_flow(name));
      std::vector<FitReport> reports(world);
      // 3 ranks: the gradients in buckets of 4 kB, summed while backward runs.
      const int64_t bucket = world == 3 ? 4096 : equivalence_options().bucket_bytes();
      run_ranks(world, [&](int rank, const distributed::ProcessGroup& group) {
        reports[rank] =
            fit(models[rank], data, equivalence_options().process_group(group).bucket_bytes(bucket),
                {}, validation);
      });
      const std::string what = name + " on " + std::to_string(world) + " ranks";
      for (int rank = 0; rank < world; ++rank) {
        expect_weights_close(*models[rank], *single, 1e-9, what + ", rank " + std::to_string(rank));
        expect_same_losses(reports[rank], reference, what);
      }
    }
  }
}

TEST(GradientBuckets, SumTheRanksGradientsBucketByBucket) {
  // Each rank's gradient of its own rows, summed over 2 ranks in buckets of
  // 256 bytes as backward produces them, equals the sum of both gradients.
  const auto data = banana_rows().first;
  auto gradient_of = [&](flows::Flow flow, int64_t offset) {
    FlatAdam adam(flow->parameters());
    adam.zero_grad();
    (-flow->log_prob(data.narrow(0, offset, 50)).mean()).backward();
    return adam.groups()[0].gradients.clone();
  };
  const auto expected =
      gradient_of(equivalence_flow("nsf"), 0) + gradient_of(equivalence_flow("nsf"), 50);
  std::vector<torch::Tensor> summed(2);
  std::vector<size_t> buckets(2);
  std::vector<flows::Flow> flows_{equivalence_flow("nsf"), equivalence_flow("nsf")};
  run_ranks(2, [&](int rank, const distributed::ProcessGroup& group) {
    FlatAdam adam(flows_[rank]->parameters());
    GradientBuckets gradients(adam, flows_[rank]->parameters(), group, 256);
    buckets[rank] = gradients.size();
    for (int repeat = 0; repeat < 2; ++repeat) {  // armed again, the same sums
      adam.zero_grad();
      gradients.arm();
      (-flows_[rank]->log_prob(data.narrow(0, 50 * rank, 50)).mean()).backward();
      gradients.finish();
    }
    summed[rank] = adam.groups()[0].gradients.clone();
  });
  EXPECT_GT(buckets[0], 5u);
  for (int rank = 0; rank < 2; ++rank)
    EXPECT_TRUE(torch::allclose(summed[rank], expected, 1e-12, 1e-14)) << "rank " << rank;
}

TEST(DataParallelFit, TheMapNetworkOfTheElboObjectiveMatchesOneProcess) {
  // bnn::train is the engine over an ElboObjective: its prior term is added
  // once over the ranks (each adds its share of the rows).
  auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
  const auto x = torch::randn({300, 3}, gen, torch::kFloat64);
  const auto y = (x.select(1, 0) * x.select(1, 1) + x.select(1, 2) > 0).to(torch::kLong);
  auto net = [] {
    torch::manual_seed(6);
    auto made = bnn::mlp({3, 16, 2}, bnn::NetworkOptions(bnn::Posterior::kPoint));
    made->to(torch::kFloat64);
    return made;
  };
  const auto settings = bnn::TrainOptions().steps(100).batch_size(40).learning_rate(1e-2).seed(7);
  auto single = net();
  const auto reference = bnn::train(single, x, y, bnn::categorical_likelihood(), settings);
  std::vector<bnn::BayesianNet> nets{net(), net()};
  std::vector<bnn::TrainReport> reports(2);
  run_ranks(2, [&](int rank, const distributed::ProcessGroup& group) {
    reports[rank] = bnn::train(nets[rank], x, y, bnn::categorical_likelihood(),
                               bnn::TrainOptions(settings).process_group(group));
  });
  for (int rank = 0; rank < 2; ++rank) {
    expect_weights_close(*nets[rank], *single, 1e-9, "MAP network, rank " + std::to_string(rank));
    ASSERT_EQ(reports[rank].steps, 100);
  }
  // The loss falls: the network learns, it is not just equal.
  EXPECT_LT(reference.loss.back(), 0.6 * reference.loss.front());
}

TEST(DataParallelFit, GlowsActNormInitialisesFromTheWholeGlobalBatch) {
  const auto rows = banana_rows();
  const auto data = rows.first, validation = rows.second;
  // One process initialises ActNorm from step 1's 64 rows; so must 2 ranks
  // that each see 32 of them at step 1.
  auto single = equivalence_flow("glow");
  const auto reference = fit(single, data, equivalence_options(), {}, validation);
  std::vector<flows::Flow> models{equivalence_flow("glow"), equivalence_flow("glow")};
  run_ranks(2, [&](int rank, const distributed::ProcessGroup& group) {
    fit(models[rank], data, equivalence_options().process_group(group), {}, validation);
  });
  expect_weights_close(*models[0], *single, 1e-9, "glow, rank 0");
  expect_weights_close(*models[1], *single, 1e-9, "glow, rank 1");
}

TEST(DataParallelFit, BatchNormUsesTheGlobalBatchsStatistics) {
  // Real NVP with a BatchNorm in front: 2 ranks normalise by the statistics
  // of the whole global batch (summed over ranks, gradients too) and keep the
  // running averages one process keeps.
  const auto rows = banana_rows();
  const auto data = rows.first, validation = rows.second;
  auto model = [] {
    auto inner = equivalence_flow("realnvp");
    BatchNorm norm(2);
    norm->to(torch::kFloat64);
    // Data -> BatchNorm -> Real NVP -> base: the statistics are of raw rows.
    Distribution made = Transformed(StandardNormal(2), Chain({Bijector(norm), inner->bijector()}));
    made->to(torch::kFloat64);
    return made;
  };
  auto single = model();
  fit(single, data, equivalence_options(), {}, validation);
  std::vector<Distribution> models{model(), model()};
  run_ranks(2, [&](int rank, const distributed::ProcessGroup& group) {
    fit(models[rank], data, equivalence_options().process_group(group), {}, validation);
  });
  const auto want = single->named_buffers();
  for (int rank = 0; rank < 2; ++rank) {
    expect_weights_close(*models[rank], *single, 1e-9, "batch norm, rank " + std::to_string(rank));
    const auto got = models[rank]->named_buffers();
    for (size_t i = 0; i < want.size(); ++i)
      EXPECT_TRUE(torch::allclose(got[i].value(), want[i].value(), 1e-9, 1e-12)) << want[i].key();
  }
}

TEST(DataParallelFit, FreshBatchRanksStayIdenticalAndLearnLikeOneProcess) {
  auto density = data::toy("banana");
  const auto sampler = toy_sampler(density);  // float32 batches: float32 flows
  auto flow = [] {
    return flows::build("realnvp", flows::FlowOptions(2).layers(3).hidden({16}).seed(4));
  };
  const auto o = FitOptions().steps(400).batch_size(128).learning_rate(5e-3).validate_every(100).seed(2);
  auto single = flow();
  const auto reference = fit(single, sampler, o);
  std::vector<flows::Flow> models{flow(), flow()};
  std::vector<FitReport> reports(2);
  run_ranks(2, [&](int rank, const distributed::ProcessGroup& group) {
    reports[rank] = fit(models[rank], sampler, FitOptions(o).process_group(group));
  });
  // Every rank holds the same weights (one all-reduced gradient per step)...
  expect_weights_close(*models[1], *models[0], 0, "fresh batches, rank 1 against rank 0");
  EXPECT_EQ(reports[0].train_loss, reports[1].train_loss);
  // ... but rank 1's half of each batch is other draws: the same NLL up to
  // sampling noise.
  EXPECT_NEAR(reports[0].best_validation, reference.best_validation, 0.05);
}

TEST(DataParallelFit, ADistributedCheckpointResumesExactly) {
  const auto rows = banana_rows();
  const auto data = rows.first, validation = rows.second;
  const auto dir = fs::temp_directory_path() / ("diffeo_data_parallel_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const auto checkpoint = (dir / "run.ckpt").string();
  auto two_ranks = [&](const FitOptions& o) {
    std::vector<flows::Flow> models{equivalence_flow("realnvp"), equivalence_flow("realnvp")};
    std::vector<FitReport> reports(2);
    run_ranks(2, [&](int rank, const distributed::ProcessGroup& group) {
      reports[rank] = fit(models[rank], data, FitOptions(o).process_group(group), {}, validation);
    });
    return std::make_pair(models[0], reports[0]);
  };
  const auto [straight, whole] = two_ranks(equivalence_options());
  const auto [paused_model, paused] =
      two_ranks(equivalence_options().checkpoint(checkpoint).stop_after(37));
  EXPECT_EQ(paused.stop_reason, "paused");
  const auto [resumed_model, resumed] =
      two_ranks(equivalence_options().checkpoint(checkpoint).resume(true));
  EXPECT_EQ(resumed.steps, 100);
  expect_weights_close(*resumed_model, *straight, 0, "resumed on 2 ranks");  // bit for bit
  EXPECT_EQ(resumed.train_loss, whole.train_loss);

  // The same global batches on one process: the run continues there too.
  two_ranks(equivalence_options().checkpoint(checkpoint).stop_after(37));
  auto alone = equivalence_flow("realnvp");
  fit(alone, data, equivalence_options().checkpoint(checkpoint).resume(true), {}, validation);
  expect_weights_close(*alone, *straight, 1e-9, "2-rank checkpoint resumed in one process");

  // Fresh batches (a toy sampler: each rank draws from its own stream) resume
  // exactly too: the checkpoint holds every rank's stream.
  const auto sampler = toy_sampler(data::toy("banana"));
  auto fresh = [&](const FitOptions& o) {
    std::vector<flows::Flow> models{equivalence_flow("realnvp"), equivalence_flow("realnvp")};
    run_ranks(2, [&](int rank, const distributed::ProcessGroup& group) {
      fit(models[rank], [&](int64_t n, at::Generator& g) {
            auto [x, c] = sampler(n, g);
            return std::make_pair(x.to(torch::kFloat64), c);
          }, FitOptions(o).validate_every(0).process_group(group), {});
    });
    return models;
  };
  const auto fresh_straight = fresh(equivalence_options());
  fresh(equivalence_options().checkpoint(checkpoint).stop_after(41));
  const auto fresh_resumed = fresh(equivalence_options().checkpoint(checkpoint).resume(true));
  for (int rank = 0; rank < 2; ++rank)
    expect_weights_close(*fresh_resumed[rank], *fresh_straight[0], 0,
                 "fresh batches resumed on 2 ranks, rank " + std::to_string(rank));
  fs::remove_all(dir);
}

TEST(DataParallelFit, RefusesWhatItCannotDoYet) {
  const auto rows = banana_rows();
  const auto data = rows.first, validation = rows.second;
  std::vector<flows::Flow> flows_{equivalence_flow("realnvp"), equivalence_flow("realnvp")};
  run_ranks(2, [&](int rank, const distributed::ProcessGroup& group) {
    expect_error(
        [&] { fit(flows_[rank], data, equivalence_options().batch_size(1).process_group(group)); },
        {"batch_size 1", "2 ranks"});
  });
}

}  // namespace
}  // namespace diffeo::train
