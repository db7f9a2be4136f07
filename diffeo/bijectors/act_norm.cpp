#include "diffeo/bijectors/act_norm.h"

#include <cmath>

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"

namespace diffeo {

ActNormImpl::ActNormImpl(int64_t dim, double eps) : BijectorImpl(/*event_rank=*/1), eps_(eps) {
  check_positive(dim, "dim", "ActNorm");
  if (!(std::isfinite(eps) && eps > 0))
    throw Error("ActNorm: argument 'eps' must be finite and > 0, got " + number_string(eps));
  loc_ = register_parameter("loc", torch::zeros({dim}));
  log_scale_ = register_parameter("log_scale", torch::zeros({dim}));
  initialized_ = register_buffer("initialized", torch::zeros({}));
  set_event_shape({dim});
}

bool ActNormImpl::initialized() const { return initialized_.item<double>() > 0.5; }

void ActNormImpl::initialize(const torch::Tensor& y) {
  const auto dim = y.size(-1);
  // Rows with a NaN or an infinity would make loc and scale NaN for good.
  auto rows = y.detach().reshape({-1, dim});
  rows = rows.index_select(0, torch::isfinite(rows).all(1).nonzero().squeeze(1));
  if (rows.size(0) < 2)
    throw Error(
        "ActNorm: argument 'y' must hold at least 2 samples (with finite entries) for the "
        "data-dependent initialisation, got shape " +
        shape_string(y.sizes()) + "; pass a larger first batch or call eval()");
  torch::NoGradGuard no_grad;
  auto deviation = rows.std(/*dim=*/0, /*unbiased=*/false);
  loc_.copy_(rows.mean(0));
  log_scale_.copy_(torch::log(deviation + eps_));
  initialized_.fill_(1);
}

Result ActNormImpl::forward_impl(const torch::Tensor& x, const torch::Tensor&) {
  auto log_det = log_scale_.sum().expand(x.sizes().slice(0, x.dim() - 1));
  return {x * torch::exp(log_scale_) + loc_, log_det};
}

Result ActNormImpl::inverse_impl(const torch::Tensor& y, const torch::Tensor&) {
  // An empty batch carries no statistics: the initialisation waits for data.
  if (is_training() && y.numel() > 0 && !initialized()) initialize(y);
  auto log_det = (-log_scale_.sum()).expand(y.sizes().slice(0, y.dim() - 1));
  return {(y - loc_) * torch::exp(-log_scale_), log_det};
}

}  // namespace diffeo
