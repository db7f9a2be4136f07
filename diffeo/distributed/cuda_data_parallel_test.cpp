// Data parallelism on CUDA tensors: the equivalence of the CPU tests
// (diffeo/train/data_parallel_test.cpp) with the model, the data and the
// collectives on GPUs, in float64, and one GPU process against one CPU
// process.  NCCL gives each rank its own GPU and refuses two ranks on one, so
// one GPU tests NCCL with one rank (every collective still runs through it)
// and two ranks through Gloo on CUDA tensors; two GPUs or more test NCCL with
// two ranks.  Without CUDA every test skips, saying so.

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "diffeo/diffeo.h"
#include "diffeo/testing/fit_equivalence.h"
#include "diffeo/testing/ranks.h"

namespace diffeo::distributed {
namespace {

using testing::banana_rows;
using testing::equivalence_flow;
using testing::equivalence_options;
using testing::expect_same_losses;
using testing::expect_weights_close;
using testing::run_ranks;

#define SKIP_WITHOUT_CUDA() \
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device: the GPU check runs these"

const torch::Device kGpu(torch::kCUDA, 0);

// The CPU tests' data set on the GPU.
std::pair<torch::Tensor, torch::Tensor> gpu_banana_rows() {
  const auto [data, validation] = banana_rows();
  return {data.to(kGpu), validation.to(kGpu)};
}

// `world` ranks trained on the banana through `backend` end where `single`
// did, whose fit reported `reference`.
void expect_ranks_match(const std::string& name, const flows::Flow& single,
                        const train::FitReport& reference, int world, const torch::Device& device,
                        Backend backend, const std::string& what) {
  const auto rows = banana_rows();
  const auto &data = rows.first, &validation = rows.second;
  // Each rank's model and data on its own GPU: `device`, or cuda:rank.
  auto gpu_of = [&](int rank) {
    return device.has_index() ? device : torch::Device(torch::kCUDA, rank);
  };
  std::vector<flows::Flow> models;
  for (int rank = 0; rank < world; ++rank) models.push_back(equivalence_flow(name, gpu_of(rank)));
  std::vector<train::FitReport> reports(world);
  run_ranks(
      world,
      [&](int rank, const ProcessGroup& group) {
        EXPECT_EQ(group->getBackendName(), backend_name(backend));
        reports[rank] = train::fit(models[rank], data.to(gpu_of(rank)),
                                   equivalence_options().process_group(group), {},
                                   validation.to(gpu_of(rank)));
      },
      device, backend);
  for (int rank = 0; rank < world; ++rank) {
    const std::string which = what + ", rank " + std::to_string(rank);
    for (const auto& p : models[rank]->parameters())
      EXPECT_EQ(p.device(), gpu_of(rank)) << which << ": a weight left the rank's GPU";
    expect_weights_close(*models[rank], *single, 1e-9, which);
    expect_same_losses(reports[rank], reference, which);
  }
}

TEST(CudaDataParallel, OneGpuProcessEndsWhereOneCpuProcessDoes) {
  SKIP_WITHOUT_CUDA();
  // The engine and the flows compute the same on either device: only the
  // order of the GPU's sums differs.
  const auto [data, validation] = banana_rows();
  for (const std::string name : {"realnvp", "nsf", "glow"}) {
    auto gpu = equivalence_flow(name, kGpu);
    train::fit(gpu, data.to(kGpu), equivalence_options(), {}, validation.to(kGpu));
    auto cpu = equivalence_flow(name);
    train::fit(cpu, data, equivalence_options(), {}, validation);
    expect_weights_close(*gpu, *cpu, 1e-8, name + " on cuda:0 against the CPU");
  }
}

TEST(CudaDataParallel, TwoRanksOnOneGpuThroughGlooEndWhereOneProcessDoes) {
  SKIP_WITHOUT_CUDA();
  const auto [data, validation] = gpu_banana_rows();
  for (const std::string name : {"realnvp", "nsf", "glow"}) {  // glow: ActNorm's global init
    auto single = equivalence_flow(name, kGpu);
    const auto reference = train::fit(single, data, equivalence_options(), {}, validation);
    EXPECT_LT(reference.train_loss.back(), reference.train_loss.front()) << name << " learns";
    expect_ranks_match(name, single, reference, 2, kGpu, Backend::kGloo,
                       name + " on 2 Gloo ranks sharing cuda:0");
  }
}

TEST(CudaDataParallel, NcclRanksEndWhereOneProcessDoes) {
  SKIP_WITHOUT_CUDA();
  const auto [data, validation] = gpu_banana_rows();
  // One rank per GPU, at most 2 (NCCL refuses two ranks on one GPU).
  const int world = std::min<int>(2, static_cast<int>(torch::cuda::device_count()));
  for (const std::string name : {"realnvp", "glow"}) {
    auto single = equivalence_flow(name, kGpu);
    const auto reference = train::fit(single, data, equivalence_options(), {}, validation);
    // Device index -1: each rank takes cuda:LOCAL_RANK, its rank here.
    expect_ranks_match(name, single, reference, world, torch::Device(torch::kCUDA), Backend::kNccl,
                       name + " on " + std::to_string(world) + " NCCL rank(s)");
  }
}

TEST(CudaDataParallel, CollectivesKeepTheirTensorsOnTheGpu) {
  SKIP_WITHOUT_CUDA();
  // The host-side values (agreed numbers, generator states) travel on the
  // group's device, and come back where they were.
  run_ranks(
      1,
      [](int, const ProcessGroup& group) {
        EXPECT_TRUE(values_device(group).is_cuda());
        EXPECT_EQ(all_reduce({1.5, -2.0}, group), (std::vector<double>{1.5, -2.0}));
        const auto state = torch::arange(5, torch::kUInt8);
        const auto gathered = all_gather(state, group);
        EXPECT_TRUE(gathered.device().is_cpu());
        EXPECT_TRUE(torch::equal(gathered, state.unsqueeze(0)));
      },
      torch::Device(torch::kCUDA), Backend::kNccl);
}

}  // namespace
}  // namespace diffeo::distributed
