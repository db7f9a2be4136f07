// Data parallelism on CUDA tensors: the equivalence of the CPU tests
// (diffeo/train/data_parallel_test.cpp) with the model, the data and the
// collectives on GPUs, in float64, and one GPU process against one CPU process.  NCCL gives each rank its own GPU and
// refuses two ranks on one, so one GPU tests NCCL with one rank (every
// collective still runs through it) and two ranks through Gloo on CUDA
// tensors; two GPUs or more test NCCL with two ranks.  Without CUDA every
// test skips, saying so.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "diffeo/diffeo.h"
#include "diffeo/testing/ranks.h"

namespace diffeo::distributed {
namespace {

using testing::run_ranks;

#define SKIP_WITHOUT_CUDA() \
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device: the GPU check runs these"

const torch::Device kGpu(torch::kCUDA, 0);

flows::Flow gpu_flow(const std::string& name, const torch::Device& gpu = kGpu) {
  auto flow = flows::build(name, flows::FlowOptions(2).layers(3).hidden({16}).seed(4));
  flow->to(gpu, torch::kFloat64);
  return flow;
}

// The CPU tests' banana: 600 training rows and 100 held out, float64, on the GPU.
std::pair<torch::Tensor, torch::Tensor> banana_rows() {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
  auto z = torch::randn({700, 2}, gen, torch::kFloat64);
  auto x = torch::stack({z.select(1, 0), z.select(1, 1) * 0.5 + 0.4 * z.select(1, 0).pow(2)}, 1).to(kGpu);
  return {x.narrow(0, 0, 600), x.narrow(0, 600, 100)};
}

// 100 steps over several epochs, clipping, cosine schedule, validation.
train::FitOptions options() {
  return train::FitOptions().steps(100).batch_size(64).learning_rate(3e-3).validate_every(20).seed(11);
}

// Every weight within rtol of the reference's, relative to its largest weight
// (as the CPU tests measure: Adam lifts ~1e-16 differences on near-zero
// gradients).
void expect_close(const torch::nn::Module& got, const torch::nn::Module& want, double rtol,
                  const std::string& what) {
  const auto g = got.named_parameters(), w = want.named_parameters();
  ASSERT_EQ(g.size(), w.size());
  double scale = 0;
  for (const auto& p : w) scale = std::max(scale, p.value().abs().max().item<double>());
  for (size_t i = 0; i < g.size(); ++i) {
    EXPECT_TRUE(g[i].value().is_cuda()) << what << ": " << g[i].key() << " left the GPU";
    const double difference = (g[i].value() - w[i].value()).abs().max().item<double>();
    EXPECT_LE(difference, rtol * scale) << what << ": " << g[i].key() << " differs by " << difference;
  }
}

// `world` ranks trained on the banana through `backend` end where `single`
// did, whose fit reported `reference`.
void expect_ranks_match(const std::string& name, const flows::Flow& single,
                        const train::FitReport& reference, int world, const torch::Device& device,
                        Backend backend, const std::string& what) {
  const auto rows = banana_rows();
  const auto &data = rows.first, &validation = rows.second;
  // Each rank's model and data on its own GPU: `device`, or cuda:rank.
  auto gpu_of = [&](int rank) { return device.has_index() ? device : torch::Device(torch::kCUDA, rank); };
  std::vector<flows::Flow> models;
  for (int rank = 0; rank < world; ++rank) models.push_back(gpu_flow(name, gpu_of(rank)));
  std::vector<train::FitReport> reports(world);
  run_ranks(
      world,
      [&](int rank, const ProcessGroup& group) {
        EXPECT_EQ(group->getBackendName(), backend_name(backend));
        reports[rank] = train::fit(models[rank], data.to(gpu_of(rank)), options().process_group(group),
                                   {}, validation.to(gpu_of(rank)));
      },
      device, backend);
  for (int rank = 0; rank < world; ++rank) {
    models[rank]->to(kGpu);  // beside the reference
    expect_close(*models[rank], *single, 1e-9, what + ", rank " + std::to_string(rank));
    ASSERT_EQ(reports[rank].train_loss.size(), reference.train_loss.size()) << what;
    for (size_t i = 0; i < reference.train_loss.size(); ++i)
      EXPECT_NEAR(reports[rank].train_loss[i], reference.train_loss[i],
                  1e-9 * std::abs(reference.train_loss[i]))
          << what << ", step " << i + 1;
  }
}

TEST(CudaDataParallel, OneGpuProcessEndsWhereOneCpuProcessDoes) {
  SKIP_WITHOUT_CUDA();
  // The engine and the flows compute the same on either device: only the
  // order of the GPU's sums differs.
  const auto [data, validation] = banana_rows();
  for (const std::string name : {"realnvp", "nsf", "glow"}) {
    auto gpu = gpu_flow(name);
    train::fit(gpu, data, options(), {}, validation);
    auto cpu = gpu_flow(name, torch::kCPU);
    train::fit(cpu, data.cpu(), options(), {}, validation.cpu());
    gpu->to(torch::kCPU);
    const auto g = gpu->named_parameters(), c = cpu->named_parameters();
    double scale = 0;
    for (const auto& p : c) scale = std::max(scale, p.value().abs().max().item<double>());
    for (size_t i = 0; i < g.size(); ++i) {
      const double difference = (g[i].value() - c[i].value()).abs().max().item<double>();
      EXPECT_LE(difference, 1e-8 * scale) << name << ": " << g[i].key() << " differs by " << difference;
    }
  }
}

TEST(CudaDataParallel, TwoRanksOnOneGpuThroughGlooEndWhereOneProcessDoes) {
  SKIP_WITHOUT_CUDA();
  const auto [data, validation] = banana_rows();
  for (const std::string name : {"realnvp", "nsf", "glow"}) {  // glow: ActNorm's global init
    auto single = gpu_flow(name);
    const auto reference = train::fit(single, data, options(), {}, validation);
    EXPECT_LT(reference.train_loss.back(), reference.train_loss.front()) << name << " learns";
    expect_ranks_match(name, single, reference, 2, kGpu, Backend::kGloo,
                       name + " on 2 Gloo ranks sharing cuda:0");
  }
}

TEST(CudaDataParallel, NcclRanksEndWhereOneProcessDoes) {
  SKIP_WITHOUT_CUDA();
  const auto [data, validation] = banana_rows();
  // One rank per GPU, at most 2 (NCCL refuses two ranks on one GPU).
  const int world = std::min<int>(2, static_cast<int>(torch::cuda::device_count()));
  for (const std::string name : {"realnvp", "glow"}) {
    auto single = gpu_flow(name);
    const auto reference = train::fit(single, data, options(), {}, validation);
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
