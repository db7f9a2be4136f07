#pragma once
// The ELBO of a Bayesian network as an objective of the training engine.

#include <torch/torch.h>

#include "diffeo/bnn/elbo.h"
#include "diffeo/bnn/network.h"
#include "diffeo/train/objective.h"

namespace diffeo::bnn {

/// The negative ELBO per data point of `net` on a data set of `data_size`
/// rows, for train::fit over a TensorDataSet of (x, y): the batch's mean
/// negative log-likelihood plus kl_weight * KL / data_size, the KL weight
/// growing linearly from 1 / kl_warmup_steps at step 1 to 1 at step
/// kl_warmup_steps (0: 1 throughout).  Under data parallelism each rank adds
/// its share of the KL (Batch::share), so the ranks' losses sum to the global
/// batch's.  The weight noise of mean-field and MNF layers comes from
/// LibTorch's global generator, not fit's.  last_terms() holds the latest
/// batch's terms (for reports).
class ElboObjective : public train::Objective {
 public:
  ElboObjective(BayesianNet net, LogLikelihood likelihood, int64_t data_size,
                int64_t kl_warmup_steps = 0);

  torch::nn::Module& module() override { return *net_; }
  torch::Tensor loss(const train::Batch& batch, at::Generator& generator) override;

  /// The KL term's weight at `step` (1-based).
  double kl_weight(int64_t step) const;
  const ElboTerms& last_terms() const { return terms_; }

 private:
  BayesianNet net_;
  LogLikelihood likelihood_;
  int64_t data_size_, kl_warmup_steps_;
  ElboTerms terms_;
};

}  // namespace diffeo::bnn
