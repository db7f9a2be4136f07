// `diffeo plot`: pictures of a saved flow and/or a toy density.

#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "commands.h"
#include "common.h"
#include "conditional_plot.h"
#include "diffeo/io/save_load.h"
#include "diffeo/plot/plot.h"

namespace diffeo::cli {
namespace {

constexpr const char* kPlotCommand = "plot";

struct PlotArgs {
  std::string model, density, kind = "both", range, out, context, data;
  int64_t bins = 100, n = 100000, threads = 1;
  uint64_t seed = 0;
};

data::PlotRange parse_range(const std::string& text) {
  std::vector<double> v;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    try {
      size_t used = 0;
      v.push_back(std::stod(item, &used));
      if (used != item.size()) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      throw UsageError(kPlotCommand,
                       "--range needs four numbers xmin,xmax,ymin,ymax, got '" + text + "'");
    }
  }
  if (v.size() != 4 || !(v[0] < v[1]) || !(v[2] < v[3]))
    throw UsageError(kPlotCommand,
                     "--range needs xmin,xmax,ymin,ymax with xmin < xmax and ymin < "
                     "ymax, got '" +
                         text + "'");
  return {v[0], v[1], v[2], v[3]};
}

// The central 99% of the samples per axis, widened by 10%: a range that shows
// a model with no range of its own.
data::PlotRange range_of(const torch::Tensor& samples) {
  auto x = samples.to(torch::kFloat64);
  auto low = std::get<0>(x.kthvalue(std::max<int64_t>(1, x.size(0) / 200), 0));
  auto high = std::get<0>(x.kthvalue(std::max<int64_t>(1, x.size(0) - x.size(0) / 200), 0));
  auto margin = (high - low) * 0.1;
  low = low - margin;
  high = high + margin;
  return {low[0].item<double>(), high[0].item<double>(), low[1].item<double>(),
          high[1].item<double>()};
}

// What one source (the true density or the model) can show.
struct Source {
  std::string name;
  std::function<torch::Tensor(int64_t n)> sample;               // empty: no sampler
  std::function<torch::Tensor(const torch::Tensor&)> log_prob;  // empty: no density
};

void run(const PlotArgs& a) {
  if (a.model.empty() && a.density.empty())
    throw UsageError(kPlotCommand, "give --model FILE and/or --density NAME");
  const std::vector<std::string> kinds{"samples", "density", "both", "surface"};
  if (std::find(kinds.begin(), kinds.end(), a.kind) == kinds.end())
    throw UsageError(kPlotCommand, "--kind is '" + a.kind +
                                       "'; expected samples, density, both or "
                                       "surface");
  require_positive(a.bins, "--bins", kPlotCommand);
  require_positive(a.n, "-n", kPlotCommand);
  if (a.kind == "surface" && a.bins > 150)
    throw UsageError(kPlotCommand,
                     "--bins must be at most 150 for a surface (one polygon per cell)");
  require_extension(a.out, "--out", {".png"}, kPlotCommand);
  set_threads(a.threads, kPlotCommand);
  check_writable(a.out, "--out", kPlotCommand);

  std::vector<Source> sources;
  std::optional<data::PlotRange> range;
  if (!a.range.empty()) range = parse_range(a.range);
  if (!a.density.empty()) {
    const auto& d = density_option(a.density, /*need_sampler=*/false, kPlotCommand);
    Source s{"true " + a.density, {}, d.log_prob ? d.log_prob : d.unnormalized_log_prob};
    if (d.sample)
      s.sample = [&d, &a](int64_t n) {
        return d.sample(n, at::make_generator<at::CPUGeneratorImpl>(a.seed));
      };
    if (!range) range = d.range;
    sources.push_back(s);
  }
  if (!a.model.empty()) {
    auto flow = load_model(a.model, kPlotCommand, /*conditional_ok=*/true);
    if (const int64_t features = flow->flow_options().context_features(); features > 0) {
      if (a.context.empty())
        throw UsageError(kPlotCommand, "'" + a.model + "' is a conditional flow (" +
                                           std::to_string(features) +
                                           " context features): give --context V1,V2,... or FILE");
      if (!a.density.empty())
        throw UsageError(kPlotCommand, "a conditional model is drawn without --density");
      ConditionalPlot what;
      what.contexts = context_rows(a.context, features, a.model, kPlotCommand,
                                   /*one_value_per_row=*/true);
      if (!a.data.empty())
        what.data = read_data(a.data, /*drop_nonfinite=*/false, kPlotCommand, &what.header);
      what.range = range;
      what.bins = a.bins;
      what.seed = a.seed;
      plot_conditional(flow, a.model, what, a.out);
      std::cout << "wrote " << a.out << "\n";
      return;
    }
    if (!a.context.empty() || !a.data.empty())
      throw UsageError(kPlotCommand, "--context and --data go with a conditional model; '" +
                                         a.model + "' is unconditional");
    if (flow->flow_options().dim() != 2)
      throw Error(std::string(kPlotCommand) + ": the model '" + a.model + "' has " +
                  std::to_string(flow->flow_options().dim()) + " dimensions; plots need 2");
    Source s{flow->spec().at("flow").get<std::string>() + " model",
             [flow, &a](int64_t n) mutable {
               c10::InferenceMode guard;
               auto generator = at::make_generator<at::CPUGeneratorImpl>(a.seed);
               return in_chunks(n, kChunkRows, [&](int64_t, int64_t rows) {
                 return flow->sample(rows, {}, generator).to(torch::kFloat64);
               });
             },
             [flow](const torch::Tensor& x) mutable {
               c10::InferenceMode guard;
               return flow->log_prob(x.to(model_dtype(flow)));
             }};
    if (!range) range = range_of(s.sample(10000));
    sources.push_back(s);
  }

  const bool want_samples = a.kind == "samples" || a.kind == "both";
  const bool want_density = a.kind != "samples";
  const int per_source = a.kind == "both" ? 2 : 1;
  plot::Figure figure(static_cast<int>(sources.size()), per_source, 460 * per_source + 40,
                      400 * static_cast<int>(sources.size()) + 40);
  for (size_t row = 0; row < sources.size(); ++row) {
    const auto& s = sources[row];
    int col = 0;
    plot::PanelStyle style{"", "x#d1#u", "x#d2#u", ""};
    if (want_samples) {
      if (!s.sample) throw Error(std::string(kPlotCommand) + ": " + s.name + " has no sampler");
      style.title = s.name + ": samples";
      style.value_label = "density";
      figure.heatmap(static_cast<int>(row), col++, plot::histogram2d(s.sample(a.n), *range, a.bins),
                     style);
    }
    if (want_density) {
      if (!s.log_prob) throw Error(std::string(kPlotCommand) + ": " + s.name + " has no density");
      auto grid = plot::density_grid(s.log_prob, *range, a.bins, torch::kFloat64);
      style.title = s.name + ": density";
      style.value_label = "p(x)";
      if (a.kind == "surface")
        figure.surface3d(static_cast<int>(row), col++, grid, style);
      else
        figure.heatmap(static_cast<int>(row), col++, grid, style);
    }
  }
  figure.save(a.out);
  std::cout << "wrote " << a.out << "\n";
}

}  // namespace

void add_plot_command(CLI::App& app) {
  auto* command = app.add_subcommand(
      "plot", "Draw samples (2-D histogram), the density (heatmap) or a 3-D surface as a PNG");
  auto a = std::make_shared<PlotArgs>();
  command->add_option("--model", a->model, "Model file written by 'diffeo train' (2-D)");
  command->add_option("--density", a->density, "Toy density (see 'diffeo densities')");
  command->add_option("--kind", a->kind, "samples, density, both (side by side) or surface")
      ->capture_default_str();
  command->add_option("--range", a->range,
                      "xmin,xmax,ymin,ymax (default: the density's range, else the model's)");
  command->add_option("--bins", a->bins, "Cells per axis")->capture_default_str();
  command->add_option("-n", a->n, "Samples for the histogram")->capture_default_str();
  command->add_option("--seed", a->seed, "Seed of the samples")->capture_default_str();
  command->add_option("--threads", a->threads, "LibTorch intra-op threads")->capture_default_str();
  command->add_option("--context", a->context,
                      "Conditional models (1-D target): a curve of p(y | x) per context value "
                      "(V1,V2,... for one covariate) or row (.csv/.npy), and for one covariate a "
                      "heat map over (x, y)");
  command->add_option("--data", a->data,
                      "Conditional models: the data table (the model's layout) drawn over the "
                      "heat map and setting its range");
  command->add_option("--out", a->out, "Output PNG file")->required();
  command->callback([a] { run(*a); });
}

}  // namespace diffeo::cli
