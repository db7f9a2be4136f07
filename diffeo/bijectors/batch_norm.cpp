#include "diffeo/bijectors/batch_norm.h"

#include <cmath>
#include <tuple>

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"

namespace diffeo {

BatchNormImpl::BatchNormImpl(BatchNormOptions options)
    : BijectorImpl(/*event_rank=*/1), options_(options) {
  check_positive(options.dim(), "dim", "BatchNorm");
  const double momentum = options.momentum(), eps = options.eps();
  if (!(momentum >= 0 && momentum <= 1))
    throw Error("BatchNorm: argument 'momentum' must be in [0, 1], got " + number_string(momentum));
  if (!(std::isfinite(eps) && eps > 0))
    throw Error("BatchNorm: argument 'eps' must be finite and > 0, got " + number_string(eps));
  const auto dim = options.dim();
  log_gamma_ = register_parameter("log_gamma", torch::zeros({dim}));
  beta_ = register_parameter("beta", torch::zeros({dim}));
  running_mean_ = register_buffer("running_mean", torch::zeros({dim}));
  running_var_ = register_buffer("running_var", torch::ones({dim}));
  set_event_shape({dim});
}

torch::Tensor BatchNormImpl::inverse_log_det(const torch::Tensor& v,
                                             const torch::Tensor& like) const {
  auto per_event = (log_gamma_ - 0.5 * torch::log(v + options_.eps())).sum();
  return per_event.expand(like.sizes().slice(0, like.dim() - 1));
}

Result BatchNormImpl::forward_impl(const torch::Tensor& x, const torch::Tensor&) {
  auto y = (x - beta_) * torch::exp(-log_gamma_) * torch::sqrt(running_var_ + options_.eps()) +
           running_mean_;
  return {y, -inverse_log_det(running_var_, x)};
}

std::pair<torch::Tensor, torch::Tensor> BatchNormImpl::batch_moments(const torch::Tensor& rows) const {
  if (!group_) return {rows.mean(0), rows.var(/*dim=*/0, /*unbiased=*/false)};
  // Two passes over the global batch, as one process computes them: the
  // mean, then the mean squared deviation from it (rows summed over ranks;
  // the row count travels with the first sum, one collective fewer).
  const auto sums = distributed::all_reduce_with_grad(
      torch::cat({rows.sum(0), torch::full({1}, static_cast<double>(rows.size(0)), rows.options())}),
      group_);
  const int64_t dim = rows.size(1);
  const auto count = sums[dim].item<double>();
  auto mean = sums.narrow(0, 0, dim) / count;
  auto var = distributed::all_reduce_with_grad((rows - mean).square().sum(0), group_) / count;
  return {mean, var};
}

Result BatchNormImpl::inverse_impl(const torch::Tensor& y, const torch::Tensor&) {
  auto mean = running_mean_, var = running_var_;
  if (is_training()) {
    auto rows = y.reshape({-1, y.size(-1)});
    if (rows.size(0) < 2)
      throw Error(
          "BatchNorm: argument 'y' must hold at least 2 samples in training mode, got "
          "shape " +
          shape_string(y.sizes()) + "; call eval() to use the running statistics");
    // Gradients flow through the batch statistics, as in MAF.
    std::tie(mean, var) = batch_moments(rows);
    torch::NoGradGuard no_grad;
    const double momentum = options_.momentum();
    running_mean_.mul_(1 - momentum).add_(mean.detach(), momentum);
    running_var_.mul_(1 - momentum).add_(var.detach(), momentum);
  }
  auto x = (y - mean) / torch::sqrt(var + options_.eps()) * torch::exp(log_gamma_) + beta_;
  return {x, inverse_log_det(var, y)};
}

}  // namespace diffeo
