#pragma once
// The evidence lower bound of a Bayesian network, per data point.

#include <torch/torch.h>

#include <functional>

#include "diffeo/bnn/network.h"

namespace diffeo::bnn {

/// log p(target | output) per row: outputs [B, ...] and targets [B, ...] -> [B].
using LogLikelihood =
    std::function<torch::Tensor(const torch::Tensor& outputs, const torch::Tensor& targets)>;

/// Classification: outputs are logits [B, K], targets class indices [B] (int64).
LogLikelihood categorical_likelihood();
/// Regression with known Gaussian noise: outputs [B, 1], targets [B] or [B, 1].
LogLikelihood gaussian_likelihood(double noise_std);

/// One minibatch's ELBO terms, per data point: loss = nll + kl_weight * kl /
/// data_size is the negative ELBO divided by data_size (minimised); nll is the
/// batch's mean negative log-likelihood, kl the network's KL estimate (total,
/// not divided).
struct ElboTerms {
  torch::Tensor loss, nll, kl;
};

/// The ELBO of `net` on a minibatch (x, y) of a data set of data_size points;
/// kl_weight in [0, 1] anneals the complexity term (1: the true ELBO).
ElboTerms elbo(BayesianNet& net, const torch::Tensor& x, const torch::Tensor& y,
               const LogLikelihood& likelihood, int64_t data_size, double kl_weight = 1.0);

}  // namespace diffeo::bnn
