#include "diffeo/distributions/uniform.h"

#include "diffeo/core/checks.h"
#include "diffeo/core/error.h"
#include "diffeo/core/tensor_ops.h"

namespace diffeo {

static std::vector<int64_t> uniform_event_shape(const torch::Tensor& low,
                                                const torch::Tensor& high) {
  check_finite(low, "low", "Uniform");
  check_finite(high, "high", "Uniform");
  if (!low.sizes().equals(high.sizes()))
    throw Error("Uniform: arguments 'low' " + shape_string(low.sizes()) + " and 'high' " +
                shape_string(high.sizes()) + " must have the same shape");
  if (!(high > low).all().item<bool>())
    throw Error("Uniform: argument 'high' must exceed 'low' in every coordinate");
  return low.sizes().vec();
}

UniformImpl::UniformImpl(torch::Tensor low, torch::Tensor high)
    : DistributionImpl(uniform_event_shape(low, high)) {
  low_ = register_buffer("low", low);
  high_ = register_buffer("high", high);
}

torch::Tensor UniformImpl::log_prob_impl(const torch::Tensor& x, const torch::Tensor&) {
  auto inside = sum_rightmost(((x >= low_) & (x <= high_)).to(x.dtype()), event_rank());
  auto log_volume = torch::log(high_ - low_).sum();
  auto all_inside = inside == static_cast<double>(low_.numel());
  return torch::where(all_inside, -log_volume, torch::full_like(inside, -INFINITY));
}

torch::Tensor UniformImpl::sample_impl(torch::IntArrayRef sample_shape, const torch::Tensor&,
                                       c10::optional<at::Generator> generator) {
  auto shape = sample_shape.vec();
  shape.insert(shape.end(), event_shape().begin(), event_shape().end());
  return low_ + (high_ - low_) * torch::rand(shape, generator, options());
}

}  // namespace diffeo
