// diffeo's side of the benchmark runner (bench/run): one workload per process,
// one JSON line on stdout.  The plain-PyTorch baseline (bench/baseline/bench.py)
// measures the same workloads with the same protocol; bench/README.md lists them.
//
// usage: diffeo_bench --workload W [--threads T] [--seconds S] [--composite 1]
//   train/<realnvp|maf|nsf>/<batch>x<H>   one step: log_prob, backward, Adam
//   sample/<flow>, log_prob/<flow>        1e6 points in chunks of 1e5 (H = 64)
//   train/image-<maf|nsf|glow>            one step of the CLI's Fashion-MNIST model, batch 64
//   sample/image-<maf|nsf|glow>-grid      64 pictures of that model, as `diffeo sample --grid`
//   sgemm                                  [1024,256] x [256,256] float32 rate
// --composite 1 measures the unfused path (LibTorch operators, torch::optim::Adam)
// to show what the fused kernels and the flat Adam give.

#include <malloc.h>
#include <sys/resource.h>
#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "diffeo/core/fusion.h"
#include "diffeo/diffeo.h"
#include "diffeo/train/flat_adam.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Timing {
  double median_s = 0;
  int64_t iterations = 0;
  int64_t parameters = 0;  // the model's; 0 for sgemm
};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Runs `warmup` untimed iterations, then timed ones until `seconds` have
// passed and at least `minimum` were done; the median per iteration.
Timing measure(const std::function<void()>& iteration, int warmup, int minimum, double seconds) {
  for (int i = 0; i < warmup; ++i) iteration();
  std::vector<double> times;
  const auto start = Clock::now();
  while (static_cast<int>(times.size()) < minimum || seconds_since(start) < seconds) {
    const auto t0 = Clock::now();
    iteration();
    times.push_back(seconds_since(t0));
  }
  std::sort(times.begin(), times.end());
  return {times[times.size() / 2], static_cast<int64_t>(times.size())};
}

double resident_mb() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1 << 20);
}

double peak_resident_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // kB on Linux
}

// Standardised banana points, as bench/baseline/bench.py draws them (values
// differ: another generator; the cost does not depend on them).
torch::Tensor banana_pool(int64_t n) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(0);
  auto x = diffeo::data::toy("banana").sample(n, generator);
  return (x - x.mean(0)) / x.std(0);
}

int64_t parameter_count(const diffeo::flows::Flow& flow) {
  int64_t count = 0;
  for (const auto& p : flow->parameters()) count += p.numel();
  return count;
}

diffeo::flows::Flow make_flow(const std::string& name, int64_t hidden) {
  diffeo::flows::FlowOptions options(2);
  options.hidden({hidden, hidden});
  if (name == "realnvp") options.layers(8);
  if (name == "maf") options.layers(5);
  if (name == "nsf") options.layers(4).bins(8);
  return diffeo::flows::build(name, options);
}

// Adam steps of -log_prob(next_batch()).mean() as train::fit takes them
// (FlatAdam), or with torch::optim::Adam.
Timing time_training(diffeo::flows::Flow& flow, double learning_rate,
                     const std::function<torch::Tensor()>& next_batch, double seconds,
                     bool composite) {
  std::unique_ptr<torch::optim::Adam> torch_adam;
  std::unique_ptr<diffeo::train::FlatAdam> flat_adam;
  if (composite)
    torch_adam = std::make_unique<torch::optim::Adam>(flow->parameters(),
                                                      torch::optim::AdamOptions(learning_rate));
  else
    flat_adam = std::make_unique<diffeo::train::FlatAdam>(
        flow->parameters(), diffeo::train::FlatAdamOptions().learning_rate(learning_rate));
  auto iteration = [&] {
    auto x = next_batch();
    if (composite)
      torch_adam->zero_grad();
    else
      flat_adam->zero_grad();
    auto loss = -flow->log_prob(x).mean();
    loss.backward();
    if (composite)
      torch_adam->step();
    else
      flat_adam->step();
  };
  auto timing = measure(iteration, 10, 5, seconds);
  timing.parameters = parameter_count(flow);
  return timing;
}

// Step i takes rows [(i batch) % (pool rows - batch), + batch) of the pool.
std::function<torch::Tensor()> batches(const torch::Tensor& pool, int64_t batch) {
  return [pool, batch, step = int64_t{0}]() mutable {
    return pool.narrow(0, (step++ * batch) % (pool.size(0) - batch), batch);
  };
}

Timing train_step(const std::string& flow_name, int64_t batch, int64_t hidden, double seconds,
                  bool composite) {
  torch::manual_seed(0);
  auto flow = make_flow(flow_name, hidden);
  return time_training(flow, 1e-3, batches(banana_pool(100000), batch), seconds, composite);
}

Timing million_points(const std::string& what, const std::string& flow_name, double seconds) {
  torch::manual_seed(0);
  auto flow = make_flow(flow_name, 64);
  flow->eval();
  const int64_t total = 1000000, chunk = 100000;
  auto pool = what == "log_prob" ? banana_pool(total) : torch::Tensor();
  c10::InferenceMode inference;
  auto iteration = [&] {
    for (int64_t start = 0; start < total; start += chunk) {
      if (what == "sample")
        flow->sample(chunk);
      else
        flow->log_prob(pool.narrow(0, start, chunk));
    }
  };
  auto timing = measure(iteration, 1, 3, seconds);
  timing.parameters = parameter_count(flow);
  return timing;
}

// Fashion-MNIST's shape; 64 is the CLI's batch size and its grid's sample count.
const std::vector<int64_t> kImageShape{1, 28, 28};
constexpr int64_t kImageBatch = 64, kImagePool = 1024;

// The model `diffeo train --dataset fashion-mnist --flow NAME` builds, with
// the CLI's defaults (image_defaults and train_on_images in
// cli/train_images.cpp).
diffeo::flows::Flow image_flow(const std::string& name) {
  diffeo::flows::FlowOptions options(kImageShape[0] * kImageShape[1] * kImageShape[2]);
  options.image_shape(kImageShape).bins(4).bound(name == "nsf" ? 15.0 : 6.0);
  if (name == "maf") options.layers(5).hidden({1024});
  if (name == "nsf") options.layers(8).hidden({256, 256});
  if (name == "glow") options.layers(8).hidden({64});
  return diffeo::flows::build(diffeo::json{
      {"flow", name}, {"options", diffeo::flows::to_json(options)}, {"logit", {{"lambda", 1e-6}}}});
}

// The CLI's default learning rate for that model.
double image_learning_rate(const std::string& name) { return name == "nsf" ? 5e-4 : 1e-3; }

// Batches of a pool of random 8-bit images, each dequantised afresh and
// flattened, as train::ImageBatches makes them.
Timing image_train_step(const std::string& flow_name, double seconds, bool composite) {
  auto flow = image_flow(flow_name);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(0);
  auto pool = torch::randint(0, 256, {kImagePool, kImageShape[0], kImageShape[1], kImageShape[2]},
                             generator, torch::kUInt8);
  auto next_pixels = batches(pool, kImageBatch);
  auto next_batch = [&] { return diffeo::data::dequantize(next_pixels(), generator).flatten(1); };
  return time_training(flow, image_learning_rate(flow_name), next_batch, seconds, composite);
}

Timing image_grid(const std::string& flow_name, double seconds) {
  auto flow = image_flow(flow_name);
  flow->eval();
  auto generator = at::make_generator<at::CPUGeneratorImpl>(0);
  auto iteration = [&] { diffeo::train::sample_images(flow, kImageBatch, generator); };
  // MAF's grid takes D = 784 sequential steps per layer, up to a minute: one
  // iteration without warm-up, as on the baseline's side.
  auto timing =
      flow_name == "maf" ? measure(iteration, 0, 1, seconds) : measure(iteration, 1, 3, seconds);
  timing.parameters = parameter_count(flow);
  return timing;
}

Timing sgemm(double seconds) {
  auto a = torch::randn({1024, 256});
  auto b = torch::randn({256, 256});
  auto c = torch::empty({1024, 256});
  return measure([&] { torch::mm_out(c, a, b); }, 20, 50, seconds);
}

int usage_error(const std::string& message) {
  std::fprintf(stderr, "diffeo_bench: error: %s\n", message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string workload;
  int threads = 1;
  double seconds = 2;
  bool composite = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], value = argv[i + 1];
    if (key == "--workload")
      workload = value;
    else if (key == "--threads")
      threads = std::stoi(value);
    else if (key == "--seconds")
      seconds = std::stod(value);
    else if (key == "--composite")
      composite = value == "1";
    else
      return usage_error("unknown option '" + key + "'");
  }
  if (argc % 2 == 0) return usage_error("options come in pairs: --key value");
  if (workload.empty()) return usage_error("--workload is required (see bench/README.md)");
  if (threads < 1) return usage_error("--threads must be >= 1");

  // The same allocator settings as the diffeo CLI (see DESIGN.md); the runner
  // gives the baseline the same through MALLOC_* variables.
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  torch::set_num_threads(threads);
  torch::set_num_interop_threads(1);

  diffeo::FusedKernelsGuard fusion(!composite);
  const double rss_start = resident_mb();
  std::smatch match;
  Timing timing;
  double gflops = 0;
  try {
    if (workload == "sgemm") {
      timing = sgemm(seconds);
      gflops = 2.0 * 1024 * 256 * 256 / timing.median_s / 1e9;
    } else if (std::regex_match(workload, match,
                                std::regex("train/(realnvp|maf|nsf)/([0-9]+)x([0-9]+)"))) {
      timing =
          train_step(match[1], std::stoll(match[2]), std::stoll(match[3]), seconds, composite);
    } else if (std::regex_match(workload, match,
                                std::regex("(sample|log_prob)/(realnvp|maf|nsf)"))) {
      timing = million_points(match[1], match[2], seconds);
    } else if (std::regex_match(workload, match, std::regex("train/image-(maf|nsf|glow)"))) {
      timing = image_train_step(match[1], seconds, composite);
    } else if (std::regex_match(workload, match, std::regex("sample/image-(maf|nsf|glow)-grid"))) {
      timing = image_grid(match[1], seconds);
    } else {
      return usage_error("unknown workload '" + workload + "' (see bench/README.md)");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "diffeo_bench: error: %s\n", e.what());
    return 1;
  }
  std::printf(
      "{\"impl\": \"diffeo\", \"workload\": \"%s\", \"threads\": %d, \"median_s\": %.9g, "
      "\"iterations\": %lld, \"rss_start_mb\": %.1f, \"peak_rss_mb\": %.1f",
      workload.c_str(), threads, timing.median_s, static_cast<long long>(timing.iterations),
      rss_start, peak_resident_mb());
  if (timing.parameters > 0)
    std::printf(", \"parameters\": %lld", static_cast<long long>(timing.parameters));
  if (workload == "sgemm") std::printf(", \"gflops\": %.4g", gflops);
  std::printf("}\n");
  return 0;
}
