#pragma once
// Small tensor helpers the test files share: a float64 tensor from literals,
// the largest absolute entry, and whether every entry is finite.

#include <torch/torch.h>

#include <vector>

namespace diffeo::testing {

/// A 1-D float64 tensor holding `v`.
inline torch::Tensor doubles(const std::vector<double>& v) {
  return torch::tensor(v, torch::kFloat64);
}

/// max |t| over every entry.
inline double max_abs(const torch::Tensor& t) { return t.abs().max().item<double>(); }

/// Whether no entry of t is NaN or infinite.
inline bool all_finite(const torch::Tensor& t) { return torch::isfinite(t).all().item<bool>(); }

}  // namespace diffeo::testing
