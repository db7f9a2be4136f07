#pragma once
// The per-column mean and scale a flow standardises its data by.

#include <torch/torch.h>

#include <string>
#include <vector>

#include "diffeo/flows/flow.h"

namespace diffeo::flows {

/// Per-feature location and scale of a data set, as stored in a flow spec's
/// "standardize" entry: the inner flow then fits (x - mean) / scale.
struct Standardization {
  std::vector<double> mean, scale;
};

/// The per-column mean and unbiased standard deviation of `rows` [n, d]
/// (n >= 2), computed in float64.  `what` names the rows in error messages
/// (e.g. "the training rows of 'data.csv'"): diffeo::Error for a column with
/// a non-finite mean or spread (NaN or infinite values) and for a constant
/// column, naming the column from 1.
Standardization standardization_of(const torch::Tensor& rows, const std::string& what);

/// build(name, options, s.mean, s.scale): flow `name` standardising by `s`.
Flow build(const std::string& name, const FlowOptions& options, const Standardization& s);

}  // namespace diffeo::flows
