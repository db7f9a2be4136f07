// `diffeo train`: fit a flow by maximum likelihood to a toy density's fresh
// batches or to a CSV/NPY data set, and save it.

#include <torch/torch.h>

#include <cmath>
#include <iostream>
#include <memory>
#include <optional>
#include <tuple>

#include "checkpointing.h"
#include "commands.h"
#include "common.h"
#include "diffeo/core/error.h"
#include "diffeo/data/table.h"
#include "diffeo/distributed/rendezvous.h"
#include "diffeo/flows/flow.h"
#include "diffeo/flows/standardization.h"
#include "diffeo/io/save_load.h"
#include "diffeo/train/fit.h"
#include "diffeo/train/toy_fit.h"
#include "image_data.h"
#include "launcher.h"
#include "table_layout.h"
#include "train_args.h"

namespace diffeo::cli {

namespace {

// Everything about the command line that can be checked without files.
flows::FlowOptions check_arguments(const TrainArgs& a) {
  require_flow(a.flow, kTrainCommand);
  require_positive(a.steps, "--steps", kTrainCommand);
  require_positive(a.batch_size, "--batch-size", kTrainCommand);
  require_positive(a.learning_rate, "--lr", kTrainCommand);
  require_positive(a.bins, "--bins", kTrainCommand);
  if (!a.data.empty()) require_extension(a.data, "--data", {".csv", ".npy"}, kTrainCommand);
  if (!a.density.empty()) density_option(a.density, /*need_sampler=*/true, kTrainCommand);
  if (!a.history.empty())
    require_extension(a.history, "--history", {".json", ".csv"}, kTrainCommand);
  return checked_flow_options(flows::FlowOptions(/*dim=*/2)
                                  .layers(a.layers)
                                  .hidden(parse_widths(a.hidden, "--hidden", kTrainCommand))
                                  .bins(a.bins)
                                  .order(a.order)
                                  .transform(a.transform)
                                  .seed(a.seed),
                              a.flow, kTrainCommand);
}

// Fills the fields left at 0 / empty with the library's defaults.
TrainArgs with_defaults(TrainArgs a) {
  const train::FitOptions fit;
  const flows::FlowOptions flow(2);
  if (a.steps == 0) a.steps = fit.steps();
  if (a.batch_size == 0) a.batch_size = fit.batch_size();
  if (a.learning_rate == 0) {
    require_flow(a.flow, kTrainCommand);
    a.learning_rate = flows::default_learning_rate(a.flow);
  }
  if (a.bins == 0) a.bins = flow.bins();
  if (a.order == 0) a.order = flow.order();
  if (a.hidden.empty()) a.hidden = "64,64";
  if (a.transform.empty()) a.transform = flow.transform();
  return a;
}

// 1-based column numbers such as "1,3" (checked against the table's width).
std::vector<int64_t> parse_columns(const std::string& text, const std::string& option,
                                   int64_t width) {
  std::vector<int64_t> columns;
  for (const auto& item : split_list(text)) {
    char* end = nullptr;
    const long long value = std::strtoll(item.c_str(), &end, 10);
    if (*end != '\0' || value < 1 || value > width)
      throw UsageError(kTrainCommand, option + " needs column numbers from 1 to " +
                                          std::to_string(width) + ", got '" + item + "'");
    columns.push_back(value - 1);
  }
  return columns;
}

// Targets (the flow's event) and context columns of a table; by default the
// targets are every column that is not context.
TableLayout table_layout(int64_t width, const TrainArgs& a) {
  TableLayout layout;
  layout.columns = width;
  layout.context = parse_columns(a.context_cols, "--context-cols", width);
  layout.targets = parse_columns(a.target_cols, "--target-cols", width);
  auto is_context = [&](int64_t c) {
    return std::find(layout.context.begin(), layout.context.end(), c) != layout.context.end();
  };
  if (layout.targets.empty())
    for (int64_t c = 0; c < width; ++c)
      if (!is_context(c)) layout.targets.push_back(c);
  for (auto c : layout.targets)
    if (is_context(c))
      throw UsageError(kTrainCommand, "column " + std::to_string(c + 1) +
                                          " is both a target and a context column");
  if (layout.targets.empty()) throw UsageError(kTrainCommand, "no target columns are left");
  return layout;
}

void run(const TrainArgs& args) {
  if (!args.density.empty() + !args.data.empty() + !args.dataset.empty() != 1)
    throw UsageError(kTrainCommand,
                     "give exactly one of --density NAME, --data FILE or --dataset NAME");
  if (args.layers < 0)
    throw UsageError(kTrainCommand, "--layers must be >= 0 (0: the flow's default), got " +
                                        std::to_string(args.layers));
  if (!args.dataset.empty() || (!args.data.empty() && is_image_data(args.data)))
    return train_on_images(args);
  if (!args.labels.empty())
    throw UsageError(kTrainCommand,
                     "--labels goes with image data (--data DIR or an NPY image array)");
  const TrainArgs a = with_defaults(args);
  auto options = check_arguments(a);
  set_threads(a.threads, kTrainCommand);
  check_writable(a.out, "--out", kTrainCommand);
  if (!a.history.empty()) check_writable(a.history, "--history", kTrainCommand);
  check_checkpoint_options(a, kTrainCommand);
  if (launches_workers(a)) return launch_workers(a, kTrainCommand);
  const auto group = distributed::join_from_environment();
  const int rank = rank_of(group);

  const auto fit_options = with_checkpoints(train::FitOptions()
                                                .steps(a.steps)
                                                .batch_size(a.batch_size)
                                                .learning_rate(a.learning_rate)
                                                .seed(a.seed)
                                                .progress(!a.quiet)
                                                .process_group(group),
                                            a);
  flows::Flow flow = nullptr;
  train::FitReport report;
  std::string source;
  if (!a.density.empty()) {
    auto fitted = train::fit_toy(a.flow, data::toy(a.density), options, fit_options);
    flow = fitted.flow;
    report = std::move(fitted.report);
    source = "density " + a.density;
  } else {
    std::vector<std::string> header;
    auto table = read_data(a.data, a.drop_nonfinite, kTrainCommand, &header);
    // --context-cols: those columns condition the flow (p(targets | context)).
    torch::Tensor context;
    std::optional<TableLayout> layout;
    if (!a.context_cols.empty() || !a.target_cols.empty()) {
      layout = table_layout(table.size(1), a);
      layout->names = header;
      std::tie(table, context) = layout->split(table, header, a.data, kTrainCommand);
      options.context_features(context.defined() ? context.size(1) : 0);
    }
    const int64_t n = table.size(0);
    // A seeded 10% validation split; the standardisation sees training rows only.
    auto generator = at::make_generator<at::CPUGeneratorImpl>(a.seed);
    const auto order = torch::randperm(n, generator, torch::kLong);
    const int64_t held_out = n / 10;
    const auto validation = table.index_select(0, order.narrow(0, 0, held_out));
    const auto training = table.index_select(0, order.narrow(0, held_out, n - held_out));
    auto rows = [&](int64_t start, int64_t count) {
      return context.defined() ? context.index_select(0, order.narrow(0, start, count))
                                     .to(c10::typeMetaToScalarType(torch::get_default_dtype()))
                               : torch::Tensor();
    };
    if (training.size(0) < 2)
      throw Error(std::string(kTrainCommand) + ": '" + a.data + "' has " + std::to_string(n) +
                  " rows; training needs at least 2");
    const auto s = flows::standardization_of(training, "the training rows of '" + a.data + "'");
    json spec{{"flow", a.flow},
              {"options", flows::to_json(options.dim(table.size(1)))},
              {"standardize", {{"mean", s.mean}, {"scale", s.scale}}}};
    if (layout) {
      // The model records its columns, and takes its covariates in their own
      // units, standardised as its targets are.
      spec["data"] = layout->to_json();
      if (context.defined()) {
        const auto c = flows::standardization_of(
            context.index_select(0, order.narrow(0, held_out, n - held_out)),
            "the training context columns of '" + a.data + "'");
        spec["standardize_context"] = {{"mean", c.mean}, {"scale", c.scale}};
      }
    }
    flow = flows::build(spec);
    source = "'" + a.data + "' (" + std::to_string(training.size(0)) + " training, " +
             std::to_string(held_out) + " validation rows)";
    const auto dtype = c10::typeMetaToScalarType(torch::get_default_dtype());
    report = train::fit(flow, training.to(dtype), fit_options, rows(held_out, n - held_out),
                        held_out > 0 ? validation.to(dtype) : torch::Tensor(),
                        held_out > 0 ? rows(0, held_out) : torch::Tensor());
  }
  if (paused(report, a, rank) || rank != 0) return;
  io::save(flow, a.out);
  if (!a.history.empty()) report.write(a.history);
  remove_checkpoint(a);

  int64_t parameters = 0;
  for (const auto& p : flow->parameters()) parameters += p.numel();
  std::cout << "trained " << a.flow << " (" << options.dim() << " dims, " << parameters
            << " parameters) on " << source << ": " << report.steps << " steps";
  if (report.stop_reason != "steps") std::cout << " (" << report.stop_reason << ")";
  if (report.skipped_steps > 0) std::cout << ", " << report.skipped_steps << " skipped";
  std::cout << ", final train loss " << number(report.train_loss.back()) << ", best validation "
            << (std::isfinite(report.best_validation) ? number(report.best_validation) : "n/a")
            << ", " << seconds(report.seconds) << "; saved " << a.out << "\n";
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto* command = app.add_subcommand(
      "train", "Fit a flow by maximum likelihood to a toy density or a CSV/NPY data set");
  auto a = std::make_shared<TrainArgs>();
  std::string flows_help = "Flow type:";
  for (const auto& name : flows::flow_names())
    flows_help += "\n  " + name + ": " + flows::flow_description(name);
  command->add_option("--flow", a->flow, flows_help)->capture_default_str();
  auto* density = command->add_option(
      "--density", a->density, "Toy density to draw fresh batches from (see 'diffeo densities')");
  auto* data = command->add_option(
      "--data", a->data,
      "Data set (.csv or .npy, rows x columns); 10% of the rows are held out for validation");
  density->excludes(data);
  command
      ->add_flag("--drop-nonfinite", a->drop_nonfinite,
                 "With --data: drop rows holding NaN or infinite values (one warning on "
                 "stderr) instead of refusing the file")
      ->needs(data);
  command
      ->add_option("--dataset", a->dataset,
                   "Image data set: fashion-mnist (flows maf, nsf, glow; see docs/images.md)")
      ->excludes(density)
      ->excludes(data);
  // 0 / empty: the default of the chosen path, given in each help text.
  command->add_option("--steps", a->steps,
                      "Optimisation steps (default 5000; --dataset: until --minutes)");
  command->add_option("--batch-size", a->batch_size, "Rows per step (default 256; images 64)");
  command->add_option("--lr", a->learning_rate,
                      "Adam's initial learning rate, cosine decay (default 1e-3, bernstein 0.02; "
                      "images per flow)");
  command->add_option("--layers", a->layers, "Flow layers (0: the flow's default)")
      ->capture_default_str();
  command->add_option("--hidden", a->hidden,
                      "Hidden widths of each conditioner, comma list (default 64,64; images per "
                      "flow; glow: conv channels)");
  command->add_option("--bins", a->bins, "Spline bins (nsf; default 8, images 4)");
  command->add_option("--order", a->order, "Bernstein polynomial order (bernstein; default 8)");
  command->add_option("--transform", a->transform,
                      "Inner transform of maf/realnvp: affine, spline or bernstein (default "
                      "affine)");
  command->add_option("--target-cols", a->target_cols,
                      "With --data: the columns to model, 1-based (default: all but context)");
  command->add_option("--context-cols", a->context_cols,
                      "With --data: covariate columns, 1-based: the flow models p(targets | "
                      "covariates)");
  command->add_option("--seed", a->seed, "Seed of initialisation, batches and split")
      ->capture_default_str();
  command->add_option("--threads", a->threads, "LibTorch intra-op threads")->capture_default_str();
  command->add_option("--out", a->out, "Model file to write")->required();
  command->add_option("--history", a->history, "Loss history to write (.json or .csv)");
  command->add_flag("--quiet", a->quiet, "No progress on stderr");
  // Checkpoints: Ctrl-C / SIGTERM always save one (exit 130 / 143).
  command->add_option("--checkpoint", a->checkpoint,
                      "Checkpoint file (default: OUT.ckpt); removed once the model is saved");
  command
      ->add_option("--checkpoint-minutes", a->checkpoint_minutes,
                   "Save a checkpoint every this many minutes of training (0: never)")
      ->capture_default_str();
  command->add_option("--checkpoint-every", a->checkpoint_every,
                      "Also save a checkpoint every this many steps (0: never)");
  command->add_option("--stop-after", a->stop_after,
                      "Pause after this step with a checkpoint (the schedule still spans "
                      "--steps); continue with --resume");
  command->add_flag("--resume", a->resume,
                    "Continue the run saved in the checkpoint; repeat the paused run's options "
                    "(the result equals an uninterrupted run, bit for bit)");
  // Data-parallel training (docs/distributed.md).
  command->add_option("--nproc", a->nproc,
                      "Train data-parallel in this many worker processes on this machine "
                      "(--batch-size stays the global batch; --threads is per worker)");
  command->add_option("--nnodes", a->nnodes, "With --nproc: machines in the run")
      ->capture_default_str();
  command->add_option("--node-rank", a->node_rank, "With --nproc: this machine, 0..nnodes-1")
      ->capture_default_str();
  command->add_option("--master-addr", a->master_addr,
                      "With --nproc: host of node 0 (default 127.0.0.1; needed with --nnodes)");
  command->add_option("--master-port", a->master_port,
                      "With --nproc: port of the rendezvous (default: a free one on one machine, "
                      "29500 across machines)");
  // Image data sets.
  command->add_option("--minutes", a->minutes,
                      "--dataset: training time budget in minutes (default 60)");
  command->add_option("--levels", a->levels, "glow on images: number of scales (0: default)")
      ->capture_default_str();
  command
      ->add_option("--downsample", a->downsample,
                   "--dataset: average-pool the images by this factor (e.g. 2: 14x14)")
      ->capture_default_str();
  command->add_flag("--conditional", a->conditional,
                    "images: condition the flow on the class (one-hot context; own images: "
                    "labels from class sub-folders or --labels)");
  command->add_option("--labels", a->labels,
                      "own images (--data DIR or an NPY image array): class labels from a CSV "
                      "file, one per image in order, or 'file,label' rows for a folder");
  command->add_option("--lambda", a->lambda, "--dataset: logit preprocessing's lambda")
      ->capture_default_str();
  command->add_option("--validation", a->validation,
                      "images: training images held out for validation (default 2000; own "
                      "images: 10%)");
  command
      ->add_option("--grid-every", a->grid_every,
                   "--dataset: write a grid of 64 samples every N steps (0: never)")
      ->capture_default_str();
  command->add_option("--grid-dir", a->grid_dir,
                      "--dataset: directory of the sample grids (default: beside --out)");
  command->add_option("--gif", a->gif, "--dataset: also write the grids as an animated GIF");
  command
      ->add_option("--temperature", a->temperature,
                   "--dataset: base temperature of the grids' samples")
      ->capture_default_str();
  command
      ->add_option("--snapshot-minutes", a->snapshot_minutes,
                   "--dataset: also save the model after this many minutes as "
                   "OUT.<N>min.pt")
      ->capture_default_str();
  command->add_option("--data-dir", a->data_dir,
                      "--dataset: directory of the IDX files (default: the Debian package's)");
  // Options whose 0 means "default": an explicit 0 or negative value is still an error.
  command->callback([a, command] {
    auto given = [&](const char* option) { return command->count(option) > 0; };
    if (given("--steps")) require_positive(a->steps, "--steps", kTrainCommand);
    if (given("--batch-size")) require_positive(a->batch_size, "--batch-size", kTrainCommand);
    if (given("--bins")) require_positive(a->bins, "--bins", kTrainCommand);
    if (given("--order")) require_positive(a->order, "--order", kTrainCommand);
    if (given("--lr")) require_positive(a->learning_rate, "--lr", kTrainCommand);
    if (given("--validation") && a->validation < 0)  // -1 is the default's marker
      throw UsageError(kTrainCommand,
                       "--validation must be >= 0, got " + std::to_string(a->validation));
    if (given("--minutes")) require_positive(a->minutes, "--minutes", kTrainCommand);
    if (given("--nproc")) require_positive(a->nproc, "--nproc", kTrainCommand);
    for (const char* option : {"--nnodes", "--node-rank", "--master-addr", "--master-port"})
      if (given(option) && !given("--nproc"))
        throw UsageError(kTrainCommand,
                         std::string(option) + " needs --nproc (workers per machine)");
    run(*a);
  });
}

}  // namespace diffeo::cli
