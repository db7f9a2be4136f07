#include "diffeo/distributions/normal.h"

#include <cmath>

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"
#include "diffeo/core/tensor_ops.h"

namespace diffeo {

static std::vector<int64_t> normal_event_shape(const torch::Tensor& loc,
                                               const torch::Tensor& scale) {
  check_finite(loc, "loc", "Normal");
  check_finite(scale, "scale", "Normal");
  if (!loc.sizes().equals(scale.sizes()))
    throw Error("Normal: arguments 'loc' " + shape_string(loc.sizes()) + " and 'scale' " +
                shape_string(scale.sizes()) + " must have the same shape");
  return loc.sizes().vec();
}

NormalImpl::NormalImpl(torch::Tensor loc, torch::Tensor scale, bool learnable)
    : DistributionImpl(normal_event_shape(loc, scale)),
      loc_(register_value(*this, "loc", loc, learnable)),
      scale_(*this, "Normal", "scale", scale, learnable) {}

torch::Tensor NormalImpl::log_prob_impl(const torch::Tensor& x, const torch::Tensor&) {
  auto s = scale();
  auto z = (x - loc_) / s;
  auto per_coordinate = -0.5 * z * z - torch::log(s) - 0.5 * std::log(2.0 * M_PI);
  return sum_rightmost(per_coordinate, event_rank());
}

torch::Tensor NormalImpl::sample_impl(torch::IntArrayRef sample_shape, const torch::Tensor&,
                                      c10::optional<at::Generator> generator) {
  auto shape = sample_shape.vec();
  shape.insert(shape.end(), event_shape().begin(), event_shape().end());
  return loc_ + scale() * torch::randn(shape, generator, options());
}

static torch::Tensor checked_zeros(int64_t dim) {
  check_positive(dim, "dim", "StandardNormal");
  return torch::zeros({dim});
}

StandardNormalImpl::StandardNormalImpl(int64_t dim) : StandardNormalImpl(checked_zeros(dim)) {}

// A separate step so the size is checked before torch::ones sees it.
StandardNormalImpl::StandardNormalImpl(torch::Tensor zeros)
    : NormalImpl(zeros, torch::ones_like(zeros), /*learnable=*/false) {}

torch::Tensor StandardNormalImpl::log_prob_impl(const torch::Tensor& x, const torch::Tensor&) {
  const double size = static_cast<double>(loc().numel());
  return sum_rightmost(x.square(), event_rank()).mul(-0.5).sub(0.5 * size * std::log(2 * M_PI));
}

torch::Tensor StandardNormalImpl::sample_impl(torch::IntArrayRef sample_shape, const torch::Tensor&,
                                              c10::optional<at::Generator> generator) {
  auto shape = sample_shape.vec();
  shape.insert(shape.end(), event_shape().begin(), event_shape().end());
  return torch::randn(shape, generator, options());
}

}  // namespace diffeo
