#include "conditional_plot.h"

#include <algorithm>
#include <vector>

#include "common.h"
#include "diffeo/core/error.h"
#include "diffeo/plot/plot.h"
#include "table_layout.h"

namespace diffeo::cli {

namespace {

// The central 99% of `values`, widened by 10%.
std::pair<double, double> span(const torch::Tensor& values) {
  auto v = values.to(torch::kFloat64).flatten();
  const int64_t n = v.numel();
  const double low = std::get<0>(v.kthvalue(std::max<int64_t>(1, n / 200))).item<double>();
  const double high =
      std::get<0>(v.kthvalue(std::max<int64_t>(1, n - n / 200))).item<double>();
  const double margin = std::max(high - low, 1e-6) * 0.1;
  return {low - margin, high + margin};
}

std::string context_label(const torch::Tensor& row) {
  std::string label = "x = ";
  for (int64_t j = 0; j < row.numel(); ++j)
    label += (j ? ", " : "") + number(row[j].item<double>());
  return label;
}

}  // namespace

void plot_conditional(flows::Flow flow, const std::string& model, const ConditionalPlot& what,
                      const std::string& out) {
  const int64_t features = flow->flow_options().context_features();
  if (flow->flow_options().dim() != 1)
    throw Error("plot: the conditional model '" + model + "' has " +
                std::to_string(flow->flow_options().dim()) +
                " target dimensions; conditional plots draw 1-D targets");
  c10::InferenceMode inference;
  const auto dtype = model_dtype(flow);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(what.seed);
  const auto contexts = what.contexts.to(dtype);
  torch::Tensor targets, covariates;
  if (what.data.defined()) {
    const auto layout = recorded_layout(flow);
    if (!layout)
      throw Error("plot: '" + model + "' records no table layout; --data needs a model "
                  "trained by 'diffeo train --context-cols'");
    std::tie(targets, covariates) = layout->split(what.data, what.header, "--data", "plot");
  }
  // y limits: the data's, else the model's draws at the contexts.
  auto [y_low, y_high] = what.range ? std::make_pair(what.range->y_min, what.range->y_max)
                         : targets.defined() ? span(targets)
                                             : span(flow->sample(2000, contexts, generator));
  const bool map = features == 1;
  double x_low = 0, x_high = 1;
  if (map) {
    std::tie(x_low, x_high) =
        what.range ? std::make_pair(what.range->x_min, what.range->x_max)
        : covariates.defined() ? span(covariates)
                               : span(torch::cat({contexts.flatten() - 1, contexts.flatten() + 1}));
  }

  plot::Figure figure(1, map ? 2 : 1, map ? 980 : 520, 420, "p(y | x) of " + model);
  std::vector<plot::Line> curves;
  const int64_t points = 400;  // along y, for smooth curves
  const auto y = torch::linspace(y_low, y_high, points, torch::kFloat64).unsqueeze(1);
  for (int64_t k = 0; k < contexts.size(0); ++k) {
    const auto density =
        torch::exp(flow->log_prob(y.to(dtype), contexts[k].unsqueeze(0))).to(torch::kFloat64);
    plot::Line line{{}, {}, context_label(what.contexts[k])};
    for (int64_t i = 0; i < points; ++i) {
      line.x.push_back(y[i][0].item<double>());
      line.y.push_back(density[i].item<double>());
    }
    curves.push_back(std::move(line));
  }
  figure.lines(0, 0, curves, {"the density at each context", "y", "p(y | x)", ""});
  if (map) {
    const plot::Extent extent{x_low, x_high, y_low, y_high};
    figure.heatmap(0, 1,
                   plot::density_grid(
                       [&](const torch::Tensor& p) {
                         return flow->log_prob(p.narrow(1, 1, 1).to(dtype),
                                               p.narrow(1, 0, 1).to(dtype));
                       },
                       extent, what.bins, torch::kFloat64),
                   {what.data.defined() ? "p(y | x) and the data" : "p(y | x)", "x", "y",
                    "p(y | x)"});
    if (what.data.defined()) {
      const int64_t shown = std::min<int64_t>(targets.size(0), 2000);
      figure.points(0, 1, torch::cat({covariates, targets}, 1).narrow(0, 0, shown));
    }
  }
  figure.save(out);
}

}  // namespace diffeo::cli
