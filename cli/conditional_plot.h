#pragma once
// `diffeo plot --model M --context ...` for a conditional flow p(y | x) of a
// 1-D target: its density as a curve per context row and, for a 1-D
// covariate, as a heat map over (x, y) with the data points over it (the
// Bernstein regression figure from the command line).

#include <optional>
#include <string>
#include <vector>

#include "diffeo/data/toy.h"
#include "diffeo/flows/flow.h"

namespace diffeo::cli {

/// What the conditional plot draws.
struct ConditionalPlot {
  /// Context rows [k, F] for the curves (float64), F the flow's context
  /// features (as context_rows checks them).
  torch::Tensor contexts;
  /// The data table of the model's layout (--data), or undefined, and its
  /// header's column names (empty without).
  torch::Tensor data;
  std::vector<std::string> header;
  /// x (covariate) and y (target) limits; nullopt: from the data, contexts
  /// and the model's samples.
  std::optional<data::PlotRange> range;
  int64_t bins = 100;
  uint64_t seed = 0;
};

/// Draws the conditional flow `flow` (1-D target) as described above into
/// the PNG `out`; diffeo::Error (prefixed "plot:") for another target size.
void plot_conditional(flows::Flow flow, const std::string& model, const ConditionalPlot& what,
                      const std::string& out);

}  // namespace diffeo::cli
