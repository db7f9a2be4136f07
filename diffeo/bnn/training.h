#pragma once
// Training a Bayesian network by stochastic variational inference.

#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "diffeo/bnn/elbo.h"
#include "diffeo/distributed/collectives.h"

namespace diffeo::bnn {

/// Options of train(), TORCH_ARG style.
struct TrainOptions {
  TORCH_ARG(int64_t, steps) = 1000;
  /// Stop after this many seconds (0: no limit; on_step time not counted).
  TORCH_ARG(double, time_limit) = 0;
  TORCH_ARG(int64_t, batch_size) = 100;
  TORCH_ARG(double, learning_rate) = 1e-3;
  /// KL annealing: the complexity term's weight grows linearly from 0 to 1
  /// over this many steps (0: the plain ELBO from the start).
  TORCH_ARG(int64_t, kl_warmup_steps) = 0;
  /// Clip the gradient's global norm to this (0: no clipping).
  TORCH_ARG(double, clip_grad_norm) = 10.0;
  /// Seeds the minibatch order (each epoch's permutation: train::TensorDataSet).
  /// The layers' noise comes from LibTorch's global generator: seed it too for
  /// a reproducible run.
  TORCH_ARG(uint64_t, seed) = 0;
  /// Stop with an error after this many consecutive non-finite steps.
  TORCH_ARG(int64_t, max_bad_steps) = 20;
  /// Called after every applied step (progress, logging).
  TORCH_ARG(std::function<void(int64_t step, const ElboTerms& terms)>, on_step) = nullptr;
  /// Data-parallel training over this c10d process group (train::FitOptions).
  TORCH_ARG(distributed::ProcessGroup, process_group) = {};
};

/// What train() did: per applied step the loss (negative ELBO per data
/// point, with the annealed weight), the mean NLL and the KL per data point.
struct TrainReport {
  std::vector<double> loss, nll, kl_per_point;
  int64_t steps = 0, skipped_steps = 0;
  double seconds = 0;
  std::string stop_reason;  // "steps" or "time limit"
};

/// Maximises the ELBO of `net` on (x [N, ...], y [N, ...]) with the training
/// engine (train::fit over an ElboObjective and a TensorDataSet: FlatAdam at
/// a constant rate, clipping, shuffled minibatches of full epochs).  Throws diffeo::Error for mismatched data, bad
/// options, or max_bad_steps non-finite steps in a row (nothing is applied
/// from a non-finite step).
TrainReport train(BayesianNet net, const torch::Tensor& x, const torch::Tensor& y,
                  const LogLikelihood& likelihood, const TrainOptions& options);

}  // namespace diffeo::bnn
