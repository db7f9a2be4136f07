// `diffeo eval`: mean negative log-likelihood of a saved flow on a data set or
// on fresh draws of a toy density, and KL(true || model) where the density
// has a closed form.

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <tuple>
#include <utility>
#include <vector>

#include "commands.h"
#include "common.h"
#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"
#include "diffeo/core/spec.h"
#include "diffeo/data/table.h"
#include "diffeo/train/evaluate.h"
#include "diffeo/train/image_training.h"
#include "image_data.h"
#include "table_layout.h"

namespace diffeo::cli {

namespace {

const char* kEvalCommand = "eval";

struct EvalArgs {
  std::string model, data, density, dataset, split = "test", data_dir, labels;
  int64_t n = 100000, threads = 1;
  uint64_t seed = 0;
  bool json = false, drop_nonfinite = false;
};

json finite_or_null(double value) { return std::isfinite(value) ? json(value) : json(); }

// An image model on a split of its data set (--dataset) or on the user's
// images (--data), in bits/dim of the 8-bit data.
void run_images(const EvalArgs& a) {
  set_threads(a.threads, kEvalCommand);
  ImageModelInfo info;
  auto flow = load_image_model(a.model, kEvalCommand, &info);
  const bool own = a.dataset.empty();
  if (!own && info.dataset != a.dataset)
    throw Error(std::string(kEvalCommand) + ": '" + a.model + "' was trained on " + info.dataset +
                ", not " + a.dataset);
  std::vector<std::string> class_names;
  const auto set =
      own ? load_user_images(a.data, a.labels, info.downsample, kEvalCommand, &class_names)
          : load_image_split(a.dataset, a.split, a.data_dir, info.downsample, kEvalCommand);
  const std::string what = own ? "'" + a.data + "'" : "the " + a.dataset;
  const auto shape = flow->flow_options().image_shape();
  if (set.images[0].sizes() != torch::IntArrayRef(shape))
    throw Error(std::string(kEvalCommand) + ": " + what + " images are " +
                shape_string(set.images[0].sizes()) + " (C, H, W" +
                (info.downsample > 1 ? ", downsampled by " + std::to_string(info.downsample) +
                                           " as the model's training images were"
                                     : std::string()) +
                ") but '" + a.model + "' models " + shape_string(shape));
  if (info.classes > 0 && !set.labels.defined())
    throw Error(std::string(kEvalCommand) + ": '" + a.model +
                "' is class-conditional; give labels "
                "(class sub-folders in --data, or --labels FILE.csv)");
  if (own && info.classes > 0 && class_names != info.class_names)
    throw Error(std::string(kEvalCommand) + ": the labels of " + what +
                " name other classes than the model was trained on");
  const auto context =
      info.classes > 0 ? train::one_hot(set.labels, info.classes) : torch::Tensor();
  const auto start = std::chrono::steady_clock::now();
  const auto bpd = train::bits_per_dim(flow, set.images, context, a.seed);
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (a.json) {
    std::cout << json{{"model", a.model},
                      {"dataset", own ? a.data : a.dataset},
                      {"split", own ? "" : a.split},
                      {"images", set.images.size(0)},
                      {"seed", a.seed},
                      {"bits_per_dim", finite_or_null(bpd.mean)},
                      {"bits_per_dim_se", finite_or_null(bpd.standard_error)},
                      {"seconds", elapsed}}
                     .dump()
              << "\n";
    return;
  }
  std::printf("%-12s %s\n", "model", a.model.c_str());
  std::printf("%-12s %s (%lld images, dequantisation seed %llu)\n", "data",
              (own ? a.data : a.dataset + " " + a.split).c_str(),
              static_cast<long long>(set.images.size(0)), static_cast<unsigned long long>(a.seed));
  std::printf("%-12s %s +- %s\n", "bits/dim", number(bpd.mean).c_str(),
              number(bpd.standard_error).c_str());
}

void run(const EvalArgs& a) {
  if (!a.dataset.empty() || (!a.data.empty() && is_image_data(a.data))) return run_images(a);
  if (!a.labels.empty())
    throw UsageError(kEvalCommand,
                     "--labels goes with image data (--data DIR or an NPY image array)");
  if (a.density.empty() == a.data.empty())
    throw UsageError(kEvalCommand,
                     "give exactly one of --data FILE, --density NAME or --dataset NAME");
  require_positive(a.n, "-n", kEvalCommand);
  if (!a.data.empty()) require_extension(a.data, "--data", {".csv", ".npy"}, kEvalCommand);
  const data::ToyDensity* density =
      a.density.empty() ? nullptr : &density_option(a.density, /*need_sampler=*/true, kEvalCommand);
  set_threads(a.threads, kEvalCommand);
  auto flow = load_model(a.model, kEvalCommand, /*conditional_ok=*/true);
  const int64_t dim = flow->flow_options().dim();
  // A model of a table's columns (diffeo train --target-cols / --context-cols)
  // reads them from files of the same layout; a conditional one needs them.
  const auto layout = recorded_layout(flow);
  if (flow->flow_options().context_features() > 0) {
    if (!layout)
      throw Error(std::string(kEvalCommand) + ": '" + a.model +
                  "' is a conditional flow without a recorded table layout (trained outside "
                  "'diffeo train --context-cols'); evaluate it from the library or Python");
    if (density)
      throw Error(std::string(kEvalCommand) + ": '" + a.model +
                  "' is a conditional flow of a table's columns (" + layout->describe() +
                  "); evaluate it on --data FILE");
  }

  torch::Tensor x, context;
  std::string source;
  if (density) {
    x = density->sample(a.n, at::make_generator<at::CPUGeneratorImpl>(a.seed));
    source = a.density + " (" + std::to_string(a.n) + " fresh samples, seed " +
             std::to_string(a.seed) + ")";
  } else {
    std::vector<std::string> header;
    x = read_data(a.data, a.drop_nonfinite, kEvalCommand, &header);
    source = "'" + a.data + "' (" + std::to_string(x.size(0)) + " rows)";
    if (layout) std::tie(x, context) = layout->split(x, header, a.data, kEvalCommand);
  }
  if (x.size(1) != dim)
    throw Error(std::string(kEvalCommand) + ": " + (density ? "density " : "") + source + " has " +
                std::to_string(x.size(1)) + " columns but the model '" + a.model + "' has " +
                std::to_string(dim) + " dimensions; give " +
                (density ? std::string("a model of this density")
                         : "a file with " + std::to_string(dim) + " columns, one per dimension"));

  // With a closed-form density, the same draws also give an entropy estimate
  // and the KL from per-sample differences (its error is far below the NLL's).
  const auto scores = train::compare_with_truth(
      flow, x, density ? density->log_prob : std::function<torch::Tensor(const torch::Tensor&)>(),
      kChunkRows, context);
  std::vector<std::pair<std::string, train::Estimate>> estimates{{"nll", scores.nll}};
  if (scores.has_truth) {
    estimates.emplace_back("entropy", scores.entropy);
    estimates.emplace_back("kl", scores.kl);
  }

  if (a.json) {
    json out{{"model", a.model},
             {"source", density ? a.density : a.data},
             {"rows", x.size(0)},
             {"non_finite", scores.non_finite}};
    if (density) out["seed"] = a.seed;
    for (const auto& [name, e] : estimates) {
      out[name] = finite_or_null(e.mean);
      out[name + "_se"] = finite_or_null(e.standard_error);
    }
    std::cout << out.dump() << "\n";
    return;
  }
  auto line = [](const std::string& name, const std::string& value) {
    std::printf("%-9s %s\n", name.c_str(), value.c_str());
  };
  line("model", a.model);
  line("data", source);
  for (const auto& [name, e] : estimates)
    line(name, number(e.mean) + " +- " + number(e.standard_error) + " nats");
  if (scores.non_finite > 0)
    line("warning",
         std::to_string(scores.non_finite) + " rows have a non-finite model log density");
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
  command
      ->add_flag("--drop-nonfinite", a->drop_nonfinite,
                 "With --data: drop rows holding NaN or infinite values (one warning on "
                 "stderr) instead of refusing the file")
      ->needs(data);
  command
      ->add_option("--dataset", a->dataset,
                   "Image data set of an image model (fashion-mnist): test bits/dim")
      ->excludes(data)
      ->excludes(density);
  command->add_option("--split", a->split, "--dataset: split to score (test or train)")
      ->capture_default_str();
  command->add_option("--data-dir", a->data_dir,
                      "--dataset: directory of the IDX files (default: the Debian package's)");
  command->add_option("--labels", a->labels,
                      "--data images of a class-conditional model: labels from a CSV file (one "
                      "per image, or 'file,label' rows for a folder)");
  command->add_option("-n", a->n, "Samples drawn from --density")->capture_default_str();
  command
      ->add_option("--seed", a->seed, "Seed of the --density draws or the --dataset dequantisation")
      ->capture_default_str();
  command->add_option("--threads", a->threads, "LibTorch intra-op threads")->capture_default_str();
  command->add_flag("--json", a->json, "Print one JSON object instead of text lines");
  command->callback([a] { run(*a); });
}

}  // namespace diffeo::cli
