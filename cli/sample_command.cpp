// `diffeo sample`: draw from a saved flow, in data units, into a CSV/NPY file.

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <vector>

#include "commands.h"
#include "common.h"
#include "diffeo/core/tensor_ops.h"
#include "diffeo/data/table.h"
#include "image_data.h"

namespace diffeo::cli {

namespace {

const char* kSampleCommand = "sample";

struct SampleArgs {
  std::string model, out, grid, context;
  int64_t n = 1000, threads = 1, label = -1;
  uint64_t seed = 0;
  double temperature = 1.0;
};

// An image model's samples as a PNG grid (-n defaults to 64 there).
void run_grid(SampleArgs a, bool n_given) {
  require_extension(a.grid, "--grid", {".png"}, kSampleCommand);
  require_positive(a.temperature, "--temperature", kSampleCommand);
  set_threads(a.threads, kSampleCommand);
  check_writable(a.grid, "--grid", kSampleCommand);
  ImageModelInfo info;
  auto flow = load_image_model(a.model, kSampleCommand, &info);
  if (a.label >= 0) {
    if (info.classes == 0)
      throw UsageError(kSampleCommand, "--class needs a class-conditional image model; '" +
                                           a.model + "' is unconditional");
    if (a.label >= info.classes)
      throw UsageError(kSampleCommand, "--class must be from 0 to " +
                                           std::to_string(info.classes - 1) + ", got " +
                                           std::to_string(a.label));
  }
  if (!n_given) a.n = info.classes > 0 && a.label < 0 ? 10 * info.classes : 64;
  require_positive(a.n, "-n", kSampleCommand);
  if (a.n > 4096)
    throw UsageError(kSampleCommand,
                     "--grid draws at most 4096 images, got -n " + std::to_string(a.n));
  write_sample_grid(flow, info, a.n, a.seed, a.temperature, a.grid, a.label);
  std::cout << "wrote a grid of " << a.n << " samples"
            << (a.label >= 0 ? " of class " + std::to_string(a.label) : std::string())
            << " (temperature " << number(a.temperature) << ") from " << a.model << " to " << a.grid
            << "\n";
}

// n draws per context row, as rows [row number (1-based), context..., sample...].
torch::Tensor conditional_samples(flows::Flow flow, const torch::Tensor& context, int64_t n,
                                  at::Generator& generator) {
  const auto dtype = model_dtype(flow);
  const int64_t per_chunk = std::max<int64_t>(1, kChunkRows / n);  // context rows per call
  std::vector<torch::Tensor> parts;
  for (int64_t start = 0; start < context.size(0); start += per_chunk) {
    const int64_t count = std::min(per_chunk, context.size(0) - start);
    const auto c = context.narrow(0, start, count).to(dtype);
    // [n, count, D] -> [count, n, D]: a row's draws together.
    const auto draws = flow->sample(n, c, generator).transpose(0, 1);
    const auto row = torch::arange(start + 1, start + count + 1, c.options()).view({count, 1, 1});
    parts.push_back(
        torch::cat({row.expand({count, n, 1}), c.unsqueeze(1).expand({count, n, c.size(1)}), draws},
                   2)
            .reshape({count * n, -1}));
  }
  return torch::cat(parts);
}

void run(const SampleArgs& a) {
  require_positive(a.n, "-n", kSampleCommand);
  if (a.out.empty())
    throw UsageError(kSampleCommand, "give --out FILE (or --grid FILE.png for an image model)");
  require_extension(a.out, "--out", {".csv", ".npy"}, kSampleCommand);
  set_threads(a.threads, kSampleCommand);
  check_writable(a.out, "--out", kSampleCommand);
  const auto start = std::chrono::steady_clock::now();
  auto flow = load_model(a.model, kSampleCommand, /*conditional_ok=*/true);
  const int64_t features = flow->flow_options().context_features();
  if (features > 0 && a.context.empty())
    throw UsageError(kSampleCommand,
                     "'" + a.model + "' is a conditional flow (" + std::to_string(features) +
                         " context features): give --context FILE or --context V1,V2,...");
  if (features == 0 && !a.context.empty())
    throw UsageError(kSampleCommand, "'" + a.model + "' is unconditional: it takes no --context");
  torch::Tensor samples;
  {
    c10::InferenceMode inference;
    auto generator = at::make_generator<at::CPUGeneratorImpl>(a.seed);
    if (features > 0)
      samples = conditional_samples(
          flow, context_rows(a.context, features, a.model, kSampleCommand), a.n, generator);
    else
      samples = in_chunks(a.n, kChunkRows,
                          [&](int64_t, int64_t rows) { return flow->sample(rows, {}, generator); });
  }
  data::write_table(samples, a.out);
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "wrote " << samples.size(0) << " samples x " << samples.size(1) << " columns ("
            << dtype_name(samples.scalar_type()) << ")"
            << (features > 0
                    ? " (" + std::to_string(a.n) + " per context row: row, context, sample)"
                    : std::string())
            << " from " << a.model << " to " << a.out << " in " << seconds(elapsed) << "\n";
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
  command->add_option("--class", a->label,
                      "--grid of a class-conditional image model: draw this class only (from 0; "
                      "default: every class, one per column)");
  command->add_option("--context", a->context,
                      "Conditional flows: the context rows, a .csv/.npy file or one row inline "
                      "(0.5,1.2); -n draws for each, written as row number, context, sample");
  command->add_option("--seed", a->seed, "Seed of the draws")->capture_default_str();
  command->add_option("--threads", a->threads, "LibTorch intra-op threads")->capture_default_str();
  command->callback([a, command] {
    if (command->count("--class") > 0 && a->grid.empty())
      throw UsageError(kSampleCommand,
                       "--class goes with --grid FILE.png (class-conditional image models)");
    if (command->count("--class") > 0 && a->label < 0)
      throw UsageError(kSampleCommand, "--class must be >= 0, got " + std::to_string(a->label));
    if (!a->grid.empty()) return run_grid(*a, command->count("-n") > 0);
    run(*a);
  });
}

}  // namespace diffeo::cli
