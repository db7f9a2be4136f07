// `diffeo sample`: draw from a saved flow, in data units, into a CSV/NPY file.

#include <torch/torch.h>

#include <chrono>
#include <iostream>
#include <memory>

#include "commands.h"
#include "common.h"
#include "diffeo/core/tensor_ops.h"
#include "diffeo/data/table.h"
#include "image_data.h"

namespace diffeo::cli {

namespace {

const char* kCommand = "sample";

struct SampleArgs {
  std::string model, out, grid;
  int64_t n = 1000, threads = 1;
  uint64_t seed = 0;
  double temperature = 1.0;
};

// An image model's samples as a PNG grid (-n defaults to 64 there).
void run_grid(SampleArgs a, bool n_given) {
  require_extension(a.grid, "--grid", {".png"}, kCommand);
  require_positive(a.temperature, "--temperature", kCommand);
  set_threads(a.threads, kCommand);
  check_writable(a.grid, "--grid", kCommand);
  ImageModelInfo info;
  auto flow = load_image_model(a.model, kCommand, &info);
  if (!n_given) a.n = info.classes > 0 ? 10 * info.classes : 64;
  require_positive(a.n, "-n", kCommand);
  if (a.n > 4096)
    throw UsageError(kCommand, "--grid draws at most 4096 images, got -n " + std::to_string(a.n));
  write_sample_grid(flow, info, a.n, a.seed, a.temperature, a.grid);
  std::cout << "wrote a grid of " << a.n << " samples (temperature " << number(a.temperature)
            << ") from " << a.model << " to " << a.grid << "\n";
}

void run(const SampleArgs& a) {
  require_positive(a.n, "-n", kCommand);
  if (a.out.empty())
    throw UsageError(kCommand, "give --out FILE (or --grid FILE.png for an image model)");
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
  auto* out = command->add_option("--out", a->out, "Output file (.csv or .npy)");
  command->add_option("--grid", a->grid, "Image models: write a PNG grid of samples instead")
      ->excludes(out);
  command->add_option("--temperature", a->temperature, "--grid: base temperature")
      ->capture_default_str();
  command->add_option("--seed", a->seed, "Seed of the draws")->capture_default_str();
  command->add_option("--threads", a->threads, "LibTorch intra-op threads")->capture_default_str();
  command->callback([a, command] {
    if (!a->grid.empty()) return run_grid(*a, command->count("-n") > 0);
    run(*a);
  });
}

}  // namespace diffeo::cli
