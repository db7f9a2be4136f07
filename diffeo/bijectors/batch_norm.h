#pragma once

#include <torch/torch.h>

#include "diffeo/bijectors/bijector.h"
#include "diffeo/distributed/group_aware.h"

namespace diffeo {

/// Options of BatchNorm: the vector size, the running-average momentum and eps.
struct BatchNormOptions {
  /* implicit */ BatchNormOptions(int64_t dim) : dim_(dim) {}
  /// Size of the vectors (>= 1).
  TORCH_ARG(int64_t, dim);
  /// running <- (1 - momentum) * running + momentum * batch, in [0, 1].
  TORCH_ARG(double, momentum) = 0.1;
  /// Added to the variance before the square root (> 0).
  TORCH_ARG(double, eps) = 1e-5;
};

/// Batch normalisation as a bijector (Dinh et al. 2017; Papamakarios et al. 2017)
/// for vectors (event rank 1).  Inverse (density direction):
/// x = (y - m) / sqrt(v + eps) * exp(log_gamma) + beta, with inverse log-det
/// sum(log_gamma - 0.5 log(v + eps)).  In training mode the inverse uses the
/// batch mean and (biased) variance of y over all batch dimensions, which needs
/// at least 2 samples, and updates the running averages; in eval mode it uses the
/// running statistics.  The forward (sampling) direction always uses the running
/// statistics, so in training mode it is the inverse of the eval-mode map.
/// Under data-parallel training (train::fit with a process group) the batch
/// statistics are those of the global batch, summed over the ranks with their
/// gradients, so every rank normalises alike and keeps the same running
/// averages, as one process would.
class BatchNormImpl : public BijectorImpl, public distributed::GroupAware {
 public:
  explicit BatchNormImpl(BatchNormOptions options);

  torch::Tensor log_gamma() const { return log_gamma_; }
  torch::Tensor beta() const { return beta_; }
  torch::Tensor running_mean() const { return running_mean_; }
  torch::Tensor running_var() const { return running_var_; }
  const BatchNormOptions& options() const { return options_; }
  void set_process_group(distributed::ProcessGroup group) override { group_ = std::move(group); }

 protected:
  Result forward_impl(const torch::Tensor& x, const torch::Tensor& context) override;
  Result inverse_impl(const torch::Tensor& y, const torch::Tensor& context) override;

 private:
  // The inverse log-det per event for variance v.
  torch::Tensor inverse_log_det(const torch::Tensor& v, const torch::Tensor& like) const;

  // The batch mean and (biased) variance of rows [n, dim]: over the global
  // batch when training data-parallel.
  std::pair<torch::Tensor, torch::Tensor> batch_moments(const torch::Tensor& rows) const;

  BatchNormOptions options_;
  distributed::ProcessGroup group_;  // set by train::fit while training data-parallel
  torch::Tensor log_gamma_;
  torch::Tensor beta_;
  torch::Tensor running_mean_;
  torch::Tensor running_var_;
};
TORCH_MODULE(BatchNorm);

}  // namespace diffeo
