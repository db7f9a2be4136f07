// `diffeo eval`: mean negative log-likelihood of a saved flow on a data set or
// on fresh draws of a toy density, and KL(true || model) where the density
// has a closed form.

#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>

#include "commands.h"
#include "common.h"
#include "diffeo/core/error.h"
#include "diffeo/core/spec.h"
#include "diffeo/data/table.h"

namespace diffeo::cli {

namespace {

const char* kCommand = "eval";

struct EvalArgs {
  std::string model, data, density;
  int64_t n = 100000, threads = 1;
  uint64_t seed = 0;
  bool json = false;
};

// A sample mean with its standard error (NaN for a single value).
struct Estimate {
  std::string name;
  double mean, standard_error;
};

Estimate estimate(const std::string& name, const torch::Tensor& values) {
  const auto v = values.to(torch::kFloat64);
  return {name, v.mean().item<double>(),
          v.numel() > 1 ? v.std().item<double>() / std::sqrt(static_cast<double>(v.numel())) : NAN};
}

json finite_or_null(double value) { return std::isfinite(value) ? json(value) : json(); }

void run(const EvalArgs& a) {
  if (a.density.empty() == a.data.empty())
    throw UsageError(kCommand, "give exactly one of --data FILE or --density NAME");
  require_positive(a.n, "-n", kCommand);
  if (!a.data.empty()) require_extension(a.data, "--data", {".csv", ".npy"}, kCommand);
  const data::ToyDensity* density =
      a.density.empty() ? nullptr : &density_option(a.density, /*need_sampler=*/true, kCommand);
  set_threads(a.threads, kCommand);
  auto flow = load_model(a.model, kCommand);
  const int64_t dim = flow->options().dim();

  torch::Tensor x;
  std::string source;
  if (density) {
    x = density->sample(a.n, at::make_generator<at::CPUGeneratorImpl>(a.seed));
    source = a.density + " (" + std::to_string(a.n) + " fresh samples, seed " +
             std::to_string(a.seed) + ")";
  } else {
    x = data::read_table(a.data);
    source = "'" + a.data + "' (" + std::to_string(x.size(0)) + " rows)";
  }
  if (x.size(1) != dim)
    throw Error(std::string(kCommand) + ": " + (density ? "density " : "") + source + " has " +
                std::to_string(x.size(1)) + " columns but the model '" + a.model + "' has " +
                std::to_string(dim) + " dimensions");

  std::vector<Estimate> estimates;
  int64_t non_finite = 0;
  {
    c10::InferenceMode inference;
    const auto dtype = model_dtype(flow);
    const auto model_log_prob = in_chunks(x.size(0), [&](int64_t start, int64_t rows) {
      return flow->log_prob(x.narrow(0, start, rows).to(dtype)).to(torch::kFloat64);
    });
    non_finite = torch::isfinite(model_log_prob).logical_not().sum().item<int64_t>();
    estimates.push_back(estimate("nll", -model_log_prob));
    if (density && density->log_prob) {
      // The same draws under the true density: an entropy estimate, and the
      // KL from per-sample differences (its error is far below the NLL's).
      const auto true_log_prob = in_chunks(x.size(0), [&](int64_t start, int64_t rows) {
        return density->log_prob(x.narrow(0, start, rows).to(torch::kFloat64));
      });
      estimates.push_back(estimate("entropy", -true_log_prob));
      estimates.push_back(estimate("kl", true_log_prob - model_log_prob));
    }
  }

  if (a.json) {
    json out{{"model", a.model},
             {"source", density ? a.density : a.data},
             {"rows", x.size(0)},
             {"non_finite", non_finite}};
    if (density) out["seed"] = a.seed;
    for (const auto& e : estimates) {
      out[e.name] = finite_or_null(e.mean);
      out[e.name + "_se"] = finite_or_null(e.standard_error);
    }
    std::cout << out.dump() << "\n";
    return;
  }
  auto line = [](const std::string& name, const std::string& value) {
    std::printf("%-9s %s\n", name.c_str(), value.c_str());
  };
  line("model", a.model);
  line("data", source);
  for (const auto& e : estimates)
    line(e.name, number(e.mean) + " +- " + number(e.standard_error) + " nats");
  if (non_finite > 0)
    line("warning", std::to_string(non_finite) + " rows have a non-finite model log density");
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto* command = app.add_subcommand(
      "eval", "Mean negative log-likelihood of a saved flow, and KL to a known toy density");
  auto a = std::make_shared<EvalArgs>();
  command->add_option("--model", a->model, "Model file written by 'diffeo train'")->required();
  auto* data = command->add_option("--data", a->data, "Data set to score (.csv or .npy)");
  auto* density = command->add_option("--density", a->density,
                                      "Toy density to draw fresh samples from and score");
  data->excludes(density);
  command->add_option("-n", a->n, "Samples drawn from --density")->capture_default_str();
  command->add_option("--seed", a->seed, "Seed of the --density draws")->capture_default_str();
  command->add_option("--threads", a->threads, "LibTorch intra-op threads")->capture_default_str();
  command->add_flag("--json", a->json, "Print one JSON object instead of text lines");
  command->callback([a] { run(*a); });
}

}  // namespace diffeo::cli
