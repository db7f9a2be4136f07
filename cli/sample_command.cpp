// `diffeo sample`: draw from a saved flow, in data units, into a CSV/NPY file.

#include <torch/torch.h>

#include <chrono>
#include <iostream>
#include <memory>

#include "commands.h"
#include "common.h"
#include "diffeo/core/tensor_ops.h"
#include "diffeo/data/table.h"

namespace diffeo::cli {

namespace {

const char* kCommand = "sample";

struct SampleArgs {
  std::string model, out;
  int64_t n = 1000, threads = 1;
  uint64_t seed = 0;
};

void run(const SampleArgs& a) {
  require_positive(a.n, "-n", kCommand);
  require_extension(a.out, "--out", {".csv", ".npy"}, kCommand);
  set_threads(a.threads, kCommand);
  check_writable(a.out, "--out", kCommand);
  const auto start = std::chrono::steady_clock::now();
  auto flow = load_model(a.model, kCommand);

  torch::Tensor samples;
  {
    c10::InferenceMode inference;
    auto generator = at::make_generator<at::CPUGeneratorImpl>(a.seed);
    samples = in_chunks(a.n, kChunkRows,
                        [&](int64_t, int64_t rows) { return flow->sample(rows, {}, generator); });
  }
  data::write_table(samples, a.out);
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "wrote " << samples.size(0) << " samples x " << samples.size(1) << " columns ("
            << dtype_name(samples.scalar_type()) << ") from " << a.model << " to " << a.out
            << " in " << seconds(elapsed) << "\n";
}

}  // namespace

void add_sample_command(CLI::App& app) {
  auto* command = app.add_subcommand("sample", "Draw samples from a saved flow (in data units)");
  auto a = std::make_shared<SampleArgs>();
  command->add_option("--model", a->model, "Model file written by 'diffeo train'")->required();
  command->add_option("-n", a->n, "Number of samples")->capture_default_str();
  command->add_option("--out", a->out, "Output file (.csv or .npy)")->required();
  command->add_option("--seed", a->seed, "Seed of the draws")->capture_default_str();
  command->add_option("--threads", a->threads, "LibTorch intra-op threads")->capture_default_str();
  command->callback([a] { run(*a); });
}

}  // namespace diffeo::cli
