// `diffeo train --dataset fashion-mnist`: a flow on 8-bit images in logit
// space (the MAF paper's preprocessing) under a time budget, with sample
// grids while it trains and snapshots for the learning curve.

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>

#include "checkpointing.h"
#include "common.h"
#include "diffeo/core/error.h"
#include "diffeo/data/dequantize.h"
#include "diffeo/distributed/rendezvous.h"
#include "diffeo/io/save_load.h"
#include "diffeo/plot/animation.h"
#include "diffeo/train/image_training.h"
#include "image_data.h"
#include "launcher.h"
#include "train_args.h"

namespace diffeo::cli {

namespace {

// Per-flow defaults sized so that each model makes real progress in an hour
// on 2 cores (docs/images.md has the measurements behind them).
struct ImageDefaults {
  int64_t layers;
  const char* hidden;
  double learning_rate;
};

ImageDefaults image_defaults(const std::string& flow) {
  if (flow == "maf") return {5, "1024", 1e-3};
  if (flow == "nsf") return {8, "256,256", 5e-4};
  if (flow == "glow") return {8, "64", 1e-3};
  if (flow == "realnvp") return {8, "256,256", 5e-4};
  throw UsageError(kTrainCommand, "images train maf, realnvp, nsf or glow, not '" + flow + "'");
}

// OUT.pt -> OUT.10min.pt: where a snapshot after `minutes` goes.
std::string snapshot_path(const std::string& out, double minutes) {
  const std::filesystem::path path(out);
  auto name = path.stem().string() + "." + number(minutes) + "min" + path.extension().string();
  return (path.parent_path() / name).string();
}

}  // namespace

void train_on_images(const TrainArgs& args) {
  TrainArgs a = args;
  const auto defaults = image_defaults(a.flow);
  if (a.layers == 0) a.layers = defaults.layers;
  if (a.hidden.empty()) a.hidden = defaults.hidden;
  if (a.learning_rate == 0) a.learning_rate = defaults.learning_rate;
  if (a.batch_size == 0) a.batch_size = 64;
  if (a.bins == 0) a.bins = 4;
  if (a.transform.empty()) a.transform = "affine";
  // Neither --steps nor --minutes: the one-hour budget of the issue.
  if (a.minutes == 0 && a.steps == 0) a.minutes = 60;
  if (a.grid_every < 0) throw UsageError(kTrainCommand, "--grid-every must be >= 0");
  if (a.snapshot_minutes < 0) throw UsageError(kTrainCommand, "--snapshot-minutes must be >= 0");
  if (!(a.lambda >= 0 && a.lambda < 0.5))
    throw UsageError(kTrainCommand, "--lambda must be in [0, 0.5), got " + number(a.lambda));
  require_positive(a.temperature, "--temperature", kTrainCommand);
  if (!a.history.empty())
    require_extension(a.history, "--history", {".json", ".csv"}, kTrainCommand);
  if (!a.gif.empty()) require_extension(a.gif, "--gif", {".gif"}, kTrainCommand);
  set_threads(a.threads, kTrainCommand);
  check_writable(a.out, "--out", kTrainCommand);
  if (!a.history.empty()) check_writable(a.history, "--history", kTrainCommand);
  if (!a.gif.empty()) check_writable(a.gif, "--gif", kTrainCommand);
  check_checkpoint_options(a, kTrainCommand);
  if (launches_workers(a)) return launch_workers(a, kTrainCommand);
  const auto group = distributed::join_from_environment();
  const int rank = rank_of(group);  // only rank 0 writes files and prints

  // A named data set's training split, or the user's images (--data).
  const bool own = a.dataset.empty();
  std::vector<std::string> class_names;
  const auto all =
      own ? load_user_images(a.data, a.labels, a.downsample, kTrainCommand, &class_names)
          : load_image_split(a.dataset, "train", a.data_dir, a.downsample, kTrainCommand);
  if (!own && !a.labels.empty())
    throw UsageError(kTrainCommand, "--labels goes with your own images (--data); " + a.dataset +
                                        " has its labels");
  const int64_t n = all.images.size(0);
  if (a.validation == -1) a.validation = own ? n / 10 : 2000;
  if (a.conditional && !all.labels.defined())
    throw UsageError(kTrainCommand, "--conditional needs labels: class sub-folders in '" + a.data +
                                        "' or --labels FILE.csv");
  if (a.validation >= n)
    throw UsageError(kTrainCommand, "--validation " + std::to_string(a.validation) +
                                        " leaves no training images of " + std::to_string(n));
  const auto C = all.images.size(1), H = all.images.size(2), W = all.images.size(3);
  const int64_t classes = !a.conditional ? 0 : own ? static_cast<int64_t>(class_names.size()) : 10;

  // Build the flow: the inner flow models logit space; the spec says how the
  // model's data was made, so eval and sample can reproduce it.
  const bool spline = a.flow == "nsf" || a.transform == "spline";
  auto options = checked_flow_options(flows::FlowOptions(C * H * W)
                                          .image_shape({C, H, W})
                                          .layers(a.layers)
                                          .levels(a.levels)
                                          .hidden(parse_widths(a.hidden, "--hidden", kTrainCommand))
                                          .transform(a.transform)
                                          .bins(a.bins)
                                          // logit(lambda) = -13.8: the spline must cover it.
                                          .bound(spline ? 15.0 : 6.0)
                                          .context_features(classes)
                                          .seed(a.seed),
                                      a.flow, kTrainCommand);
  const std::string dataset = own ? "files" : a.dataset;
  json described{{"dataset", dataset}, {"downsample", a.downsample}};
  if (own) described["source"] = a.data;
  if (classes > 0) described["classes"] = classes;
  if (own && classes > 0) described["class_names"] = class_names;
  auto flow = flows::build(json{{"flow", a.flow},
                                {"options", flows::to_json(options)},
                                {"logit", {{"lambda", a.lambda}}},
                                {"data", described}});
  ImageModelInfo info{dataset, a.downsample, classes, own ? a.data : "", class_names};

  // A seeded hold-out for validation (dequantised once), the rest to train on.
  auto generator = at::make_generator<at::CPUGeneratorImpl>(a.seed);
  const auto order = torch::randperm(n, generator, torch::kLong);
  const auto held = order.narrow(0, 0, a.validation),
             kept = order.narrow(0, a.validation, n - a.validation);
  torch::Tensor validation, validation_context;
  if (a.validation > 0) {
    auto noise = at::make_generator<at::CPUGeneratorImpl>(a.seed + 1);
    validation = data::dequantize(all.images.index_select(0, held), noise).flatten(1);
    if (classes > 0) validation_context = train::one_hot(all.labels.index_select(0, held), classes);
  }
  train::ImageBatches batches(all.images.index_select(0, kept),
                              classes > 0 ? all.labels.index_select(0, kept) : torch::Tensor(),
                              std::max<int64_t>(classes, 1));

  // Sample grids (same base draws every time, so the frames show the model
  // changing) and the snapshot, from fit's per-step callback.
  std::string grid_dir = a.grid_dir;
  if (a.grid_every > 0 && grid_dir.empty())
    grid_dir = (std::filesystem::path(a.out).parent_path() /
                (std::filesystem::path(a.out).stem().string() + "_grids"))
                   .string();
  if (!grid_dir.empty()) std::filesystem::create_directories(grid_dir);
  const int64_t grid_n = classes > 0 ? 10 * classes : 64;
  plot::Animation animation;
  double grid_seconds = 0;  // not training time: fit does not count it either
  auto draw_grid = [&](int64_t step) {
    const auto began = std::chrono::steady_clock::now();
    const bool was_training = flow->is_training();
    flow->eval();
    const auto path = (std::filesystem::path(grid_dir) /
                       (a.flow + "_" + dataset + "_" + std::to_string(step) + ".png"))
                          .string();
    auto picture = write_sample_grid(flow, info, grid_n, a.seed + 7, a.temperature, path);
    if (!a.gif.empty()) animation.add_frame(picture);
    flow->train(was_training);
    grid_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  };
  const auto start = std::chrono::steady_clock::now();
  bool snapshot_saved = a.snapshot_minutes == 0;
  const auto snapshot = snapshot_path(a.out, a.snapshot_minutes);
  // Checkpoints hold the weights, optimizer, generator and history; batches
  // are a function of the step, so with --steps a resumed run is bit-identical
  // to one that never stopped; under --minutes the schedule follows the clock.
  auto fit_options = with_checkpoints(
      train::FitOptions()
          .steps(a.steps > 0 ? a.steps : std::numeric_limits<int32_t>::max())
          .time_limit(60 * a.minutes)
          .batch_size(a.batch_size)
          .learning_rate(a.learning_rate)
          .validate_every(a.validation > 0 ? 250 : 0)
          .log_every(50)
          .seed(a.seed)
          .progress(!a.quiet)
          .process_group(group)
          .on_step([&](int64_t step, double) {
            if (rank != 0) return;
            if (a.grid_every > 0 && step % a.grid_every == 0) draw_grid(step);
            const double minutes =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() /
                60;
            if (!snapshot_saved && minutes >= a.snapshot_minutes) {
              io::save(flow, snapshot);
              snapshot_saved = true;
            }
          }),
      a);
  if (rank == 0 && a.grid_every > 0 && !a.resume) draw_grid(0);
  auto report = train::fit(flow, batches, fit_options, validation, validation_context);
  if (paused(report, a, rank) || rank != 0) return;
  io::save(flow, a.out);
  if (!a.history.empty()) report.write(a.history);
  remove_checkpoint(a);
  if (a.grid_every > 0 || !a.gif.empty()) draw_grid(report.steps);
  if (!a.gif.empty()) animation.save_gif(a.gif, 400);

  const double bpd = data::bits_per_dim(-report.best_validation, C * H * W);
  int64_t parameters = 0;
  for (const auto& p : flow->parameters()) parameters += p.numel();
  std::cout << "trained " << a.flow << " on " << (own ? "'" + a.data + "'" : a.dataset) << " (" << C
            << "x" << H << "x" << W << ", " << n - a.validation << " training images, "
            << parameters << " parameters): " << report.steps << " steps in "
            << seconds(report.seconds) << " (" << report.stop_reason << ")";
  if (report.skipped_steps > 0) std::cout << ", " << report.skipped_steps << " skipped";
  if (std::isfinite(report.best_validation))
    std::cout << ", best validation " << number(bpd) << " bits/dim";
  std::cout << "; saved " << a.out;
  if (a.snapshot_minutes > 0 && snapshot_saved) std::cout << " and " << snapshot;
  if (!grid_dir.empty()) std::cout << "; grids in " << grid_dir;
  std::cout << "\n";
}

}  // namespace diffeo::cli
