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

namespace {

// -|x|^2 / 2 - k log(2 pi) / 2 per event of k values, as one autograd node
// with plain loops over a contiguous CPU float/double x: the composite
// (square, sum, mul, sub: four nodes) was a tenth of a small flow's step.
// Under create_graph the backward is built from ATen ops, so it stays
// differentiable.
class StandardNormalLogDensity : public torch::autograd::Function<StandardNormalLogDensity> {
 public:
  static bool applies(const torch::Tensor& x) {
    return x.device().is_cpu() && x.is_contiguous() &&
           (x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kDouble);
  }

  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               int64_t event_rank) {
    ctx->save_for_backward({x});
    const auto batch = x.sizes().slice(0, x.dim() - event_rank);
    auto out = torch::empty(batch, x.options());
    const int64_t rows = out.numel(), k = rows == 0 ? 0 : x.numel() / rows;
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "standard_normal_log_prob", [&] {
      const scalar_t* v = x.data_ptr<scalar_t>();
      scalar_t* o = out.data_ptr<scalar_t>();
      const auto constant = static_cast<scalar_t>(0.5 * static_cast<double>(k) * std::log(2 * M_PI));
      for (int64_t r = 0; r < rows; ++r) {
        scalar_t squares = 0;
        for (int64_t j = 0; j < k; ++j) squares += v[r * k + j] * v[r * k + j];
        o[r] = scalar_t(-0.5) * squares - constant;
      }
    });
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto x = ctx->get_saved_variables()[0];
    auto shape = grads[0].sizes().vec();
    shape.resize(x.dim(), 1);  // one per event dimension
    if (torch::GradMode::is_enabled())  // create_graph: differentiable ops
      return {-x * grads[0].reshape(shape), torch::Tensor()};
    const auto g = grads[0].contiguous();
    auto grad_x = torch::empty_like(x);
    const int64_t rows = g.numel(), k = rows == 0 ? 0 : x.numel() / rows;
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "standard_normal_log_prob_backward", [&] {
      const scalar_t* v = x.data_ptr<scalar_t>();
      const scalar_t* gr = g.data_ptr<scalar_t>();
      scalar_t* out = grad_x.data_ptr<scalar_t>();
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < k; ++j) out[r * k + j] = -gr[r] * v[r * k + j];
    });
    return {grad_x, torch::Tensor()};
  }
};

}  // namespace

torch::Tensor StandardNormalImpl::log_prob_impl(const torch::Tensor& x, const torch::Tensor&) {
  if (StandardNormalLogDensity::applies(x))
    return StandardNormalLogDensity::apply(x, event_rank());
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
