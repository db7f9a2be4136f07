#pragma once
// Scoring a fitted distribution on samples: mean negative log-likelihood with
// its standard error and, when the true density is known, entropy and KL.

#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <functional>

#include "diffeo/core/tensor_ops.h"
#include "diffeo/distributions/distribution.h"

namespace diffeo::train {

/// A sample mean and its standard error, std / sqrt(n) with the unbiased
/// standard deviation; the error is NaN for a single value.
struct Estimate {
  double mean, standard_error;
};

/// The mean of `values` (any shape, at least one element) and its standard
/// error, computed in float64.  NaN and infinite values propagate.
Estimate mean_estimate(const torch::Tensor& values);

/// model->log_prob(x, context) for x [n, event...] and an optional per-row
/// `context` [n, features], evaluated `chunk` rows at a time under
/// c10::InferenceMode with each chunk converted to the model's dtype and
/// device (those of its first floating-point parameter or buffer).  Returns
/// [n] in float64 on x's device ([0] for no rows, as log_prob).
torch::Tensor log_prob_in_chunks(Distribution model, const torch::Tensor& x,
                                 int64_t chunk = kChunkRows, const torch::Tensor& context = {});

/// How well a model fits samples x: `nll` is the mean of -log q(x);
/// `non_finite` counts rows where log q(x) is NaN or infinite.  With the true
/// log density p, `has_truth` is set, `entropy` is the mean of -log p(x) and
/// `kl` the mean of log p(x) - log q(x): for x drawn from p, an estimate of
/// KL(p || q) = nll - entropy whose per-sample differences give it a far
/// smaller standard error than the nll's.
struct TruthComparison {
  Estimate nll{NAN, NAN}, entropy{NAN, NAN}, kl{NAN, NAN};  // NaN where not computed
  int64_t non_finite = 0;
  bool has_truth = false;
};

/// Scores `model` on x [n, event...] (see TruthComparison).  `true_log_prob`
/// (may be empty) maps float64 rows to their exact log density, [m, event...]
/// -> [m]; both densities are evaluated `chunk` rows at a time under
/// c10::InferenceMode.  A conditional model is scored given `context`, one
/// row per row of x (log_prob_in_chunks).
TruthComparison compare_with_truth(
    Distribution model, const torch::Tensor& x,
    const std::function<torch::Tensor(const torch::Tensor&)>& true_log_prob,
    int64_t chunk = kChunkRows, const torch::Tensor& context = {});

}  // namespace diffeo::train
