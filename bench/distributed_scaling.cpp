// Data-parallel scaling of the training engine: steps per second with 1 and
// 2 worker processes (1 thread each) at the same global batch, the time of
// one all-reduce of the model's gradient, and the share of a step it takes.
// Each run forks its workers (rank 0 of a 1-process run too, so both sides
// start alike); they rendezvous over loopback like `diffeo train --nproc`.
//
// usage: distributed_bench [--workloads realnvp,glow] [--processes 1,2]
//                          [--steps N] [--rounds R] [--bucket-bytes B] [--json FILE]
// Prints a Markdown table (docs/distributed.md has the latest).

#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "diffeo/diffeo.h"

namespace df = diffeo;
using Clock = std::chrono::steady_clock;

namespace {

struct Result {
  double steps_per_second = 0, all_reduce_ms = 0, gradient_mb = 0;
};

// Real NVP, 8 couplings of width 256 on 2-D banana rows, global batch 1024 (bench/run's
// train/realnvp/1024x256); or the Fashion-MNIST Glow of `diffeo train --dataset` (8 steps
// per scale, 64 channels, batch 64).
struct Workload {
  std::function<df::flows::Flow()> model;
  std::function<std::unique_ptr<df::train::DataSource>()> data;
  int64_t batch;
};

Workload workload(const std::string& name) {
  if (name == "realnvp")
    return {[] { return df::flows::build("realnvp", df::flows::FlowOptions(2).layers(8).hidden({256, 256})); },
            [] {
              auto g = at::make_generator<at::CPUGeneratorImpl>(0);
              auto x = df::data::toy("banana").sample(100000, g);
              return std::make_unique<df::train::TensorDataSet>(
                  std::vector<std::pair<std::string, torch::Tensor>>{{"data", (x - x.mean(0)) / x.std(0)}});
            },
            1024};
  if (name == "glow")
    return {[] {
              auto options = df::flows::FlowOptions(784).image_shape({1, 28, 28}).layers(8).hidden({64});
              return df::flows::build(df::json{{"flow", "glow"},
                                               {"options", df::flows::to_json(options)},
                                               {"logit", {{"lambda", 1e-6}}}});
            },
            [] {
              return std::make_unique<df::train::ImageBatches>(
                  df::data::fashion_mnist("train").images.narrow(0, 0, 20000));
            },
            64};
  throw df::Error("distributed_bench: unknown workload '" + name + "' (realnvp, glow)");
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// One worker: warm up, then time `steps` steps of fit and the gradient's all-reduce.
int64_t bucket_bytes = df::train::FitOptions().bucket_bytes();

Result work(const Workload& w, int rank, int world, int port, int64_t steps) {
  torch::set_num_threads(1);
  df::distributed::ProcessGroup group;
  if (world > 1)
    group = df::distributed::join(
        df::distributed::Rendezvous().master_port(port).rank(rank).world_size(world));
  torch::manual_seed(0);
  auto flow = w.model();
  auto data = w.data();
  df::train::MaximumLikelihood objective(flow);
  auto options = df::train::FitOptions()
                     .batch_size(w.batch)
                     .validate_every(0)
                     .process_group(group)
                     .bucket_bytes(bucket_bytes);
  df::train::fit(objective, *data, df::train::FitOptions(options).steps(3));  // warm-up
  const auto report = df::train::fit(objective, *data, options.steps(steps));
  Result result;
  result.steps_per_second = steps / report.seconds;
  int64_t n = 0;
  for (const auto& p : flow->parameters()) n += p.numel();
  result.gradient_mb = n * 4 / 1e6;
  if (group) {
    auto buffer = torch::randn({n});
    std::vector<double> times;
    for (int i = 0; i < 30; ++i) {
      const auto began = Clock::now();
      df::distributed::all_reduce_(buffer, group);
      times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - began).count());
    }
    result.all_reduce_ms = median(times);
  }
  return result;
}

// Runs `world` forked workers; rank 0's result comes back through a pipe.
Result run(const std::string& name, int world, int64_t steps) {
  const int port = df::distributed::free_loopback_port();
  int channel[2];
  if (pipe(channel) != 0) throw df::Error("distributed_bench: pipe failed");
  std::vector<pid_t> workers;
  for (int rank = 0; rank < world; ++rank) {
    const pid_t pid = fork();
    if (pid == 0) {
      close(channel[0]);
      int code = 0;
      try {
        const auto r = work(workload(name), rank, world, port, steps);
        if (rank == 0) {
          const double values[3] = {r.steps_per_second, r.all_reduce_ms, r.gradient_mb};
          if (write(channel[1], values, sizeof values) != sizeof values) code = 1;
        }
      } catch (const std::exception& e) {
        std::fprintf(stderr, "rank %d: %s\n", rank, e.what());
        code = 1;
      }
      _exit(code);
    }
    workers.push_back(pid);
  }
  close(channel[1]);
  double values[3] = {0, 0, 0};
  const bool got = read(channel[0], values, sizeof values) == sizeof values;
  close(channel[0]);
  bool ok = got;
  for (pid_t pid : workers) {
    int status = 0;
    waitpid(pid, &status, 0);
    ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  if (!ok) throw df::Error("distributed_bench: a worker of " + name + " failed");
  return {values[0], values[1], values[2]};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Data-parallel scaling of diffeo's training engine"};
  std::vector<std::string> names{"realnvp", "glow"};
  std::vector<int> processes{1, 2};
  int64_t steps = 0, rounds = 3;
  std::string json_path;
  app.add_option("--workloads", names, "realnvp (1024x256) and/or glow (Fashion-MNIST)")->delimiter(',');
  app.add_option("--processes", processes, "worker counts")->delimiter(',');
  app.add_option("--steps", steps, "timed steps per run (default: 200 realnvp, 20 glow)");
  app.add_option("--rounds", rounds, "runs per configuration; the median is reported");
  app.add_option("--json", json_path, "every run's numbers");
  app.add_option("--bucket-bytes", bucket_bytes, "gradient bucket size (FitOptions::bucket_bytes)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  df::json all = df::json::array();
  std::printf("| workload | processes | steps/s | speed-up | efficiency | all-reduce (ms) | "
              "share of a step | gradient (MB) |\n|---|---|---|---|---|---|---|---|\n");
  for (const auto& name : names) {
    const int64_t n = steps > 0 ? steps : (name == "glow" ? 20 : 200);
    double single = 0;
    for (int world : processes) {
      std::vector<double> speed, reduce;
      Result last;
      for (int64_t round = 0; round < rounds; ++round) {
        last = run(name, world, n);
        speed.push_back(last.steps_per_second);
        reduce.push_back(last.all_reduce_ms);
        all.push_back({{"workload", name}, {"processes", world}, {"round", round},
                       {"steps_per_second", last.steps_per_second}, {"all_reduce_ms", last.all_reduce_ms}});
        std::fprintf(stderr, "%s on %d: %.2f steps/s\n", name.c_str(), world, last.steps_per_second);
      }
      const double s = median(speed), r = median(reduce);
      if (world == 1) single = s;
      const double up = single > 0 ? s / single : 0;
      std::printf("| %s | %d | %.2f | %.2fx | %.0f%% | %s | %s | %.2f |\n", name.c_str(), world, s, up,
                  100 * up / world, world > 1 ? std::to_string(r).substr(0, 5).c_str() : "-",
                  world > 1 ? (std::to_string(100 * r / 1000 * s).substr(0, 4) + "%").c_str() : "-",
                  last.gradient_mb);
      std::fflush(stdout);
    }
  }
  if (!json_path.empty()) std::ofstream(json_path) << all.dump(1) << "\n";
}
