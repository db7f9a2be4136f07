#pragma once
// Predictions of a Bayesian network: averages over posterior draws, and the
// scores that say how good and how honest they are.

#include <torch/torch.h>

#include "diffeo/bnn/network.h"

namespace diffeo::bnn {

/// `samples` forward passes of x [N, ...] -> [samples, N, outputs...], without
/// autograd, in chunks of `chunk` rows.  Each pass draws fresh weights (for
/// a point network all passes agree).
torch::Tensor sample_outputs(BayesianNet& net, const torch::Tensor& x, int64_t samples,
                             int64_t chunk = 1000);

/// The posterior predictive of a classifier: softmax probabilities averaged
/// over `samples` draws, [N, K].
torch::Tensor predictive_probabilities(BayesianNet& net, const torch::Tensor& x, int64_t samples,
                                       int64_t chunk = 1000);

/// Test error, mean negative log-likelihood (nats) and expected calibration
/// error (Naeini et al. 2015: |accuracy - confidence| per equal-width
/// confidence bin, weighted by the bin's share of points) of predicted
/// probabilities [N, K] for labels [N].
struct ClassificationScores {
  double error = 0, nll = 0, ece = 0;
};
ClassificationScores classification_scores(const torch::Tensor& probabilities,
                                           const torch::Tensor& labels, int64_t bins = 10);

/// Entropy of each row of probabilities [N, K] in nats, [N] (0 log 0 = 0).
torch::Tensor predictive_entropy(const torch::Tensor& probabilities);

}  // namespace diffeo::bnn
